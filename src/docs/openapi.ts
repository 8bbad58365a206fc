import type { TSchema } from "elysia";
import { AUTH_DETAIL, type DeclaredAuth, securityOf, securitySchemes } from "../http/auth.ts";
import { ANY_CONTENT_TYPE_ROUTES } from "../http/body.ts";

/** What the generator needs from Elysia's route list. */
export interface RouteInfo {
  method: string;
  path: string;
  hooks?: {
    body?: TSchema;
    query?: TSchema;
    params?: TSchema;
    response?: Record<string, TSchema> | TSchema;
    detail?: {
      summary?: string;
      tags?: string[];
      description?: string;
      [AUTH_DETAIL]?: DeclaredAuth;
    };
    tags?: string[];
  };
}

const ErrorSchema = {
  type: "object",
  required: ["error", "code", "request_id"],
  properties: {
    error: { type: "string" },
    code: { type: "string" },
    details: {
      type: "array",
      items: {
        type: "object",
        properties: { field: { type: "string" }, message: { type: "string" } },
      },
    },
    request_id: { type: "string" },
  },
};

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}").replace(/(.)\/$/, "$1");
}

/** Strips TypeBox's symbol keys so the schema serialises as plain JSON Schema. */
function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema));
}

function parameters(route: RouteInfo): Operation["parameters"] {
  const out: Operation["parameters"] = [];
  for (const where of ["path", "query"] as const) {
    const schema = where === "path" ? route.hooks?.params : route.hooks?.query;
    const props =
      (schema as { properties?: Record<string, TSchema> } | undefined)?.properties ?? {};
    const required = new Set((schema as { required?: string[] } | undefined)?.required ?? []);
    for (const [name, prop] of Object.entries(props)) {
      out.push({
        name,
        in: where,
        required: where === "path" || required.has(name),
        schema: plain(prop),
      });
    }
  }
  for (const m of route.path.matchAll(/:([A-Za-z0-9_]+)/g)) {
    const name = m[1]!;
    if (!out.some((p) => p.name === name))
      out.push({ name, in: "path", required: true, schema: { type: "string" } });
  }
  return out;
}

function responses(route: RouteInfo) {
  const out: Record<string, unknown> = {};
  const given = route.hooks?.response;
  const byStatus =
    given && !("type" in given || "anyOf" in given)
      ? (given as Record<string, TSchema>)
      : given
        ? { 200: given as TSchema }
        : {};
  for (const [status, schema] of Object.entries(byStatus)) {
    out[status] = {
      description: "Success",
      content: { "application/json": { schema: plain(schema) } },
    };
  }
  if (Object.keys(out).length === 0) out["200"] = { description: "Success" };
  out.default = {
    description: "Error",
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  };
  return out;
}

export interface Operation {
  summary?: string;
  tags?: string[];
  parameters: { name: string; in: string; required: boolean; schema: unknown }[];
  responses: Record<string, unknown>;
  requestBody?: unknown;
  /** What the route's auth macros declared; `[]` for public routes. */
  security: ReturnType<typeof securityOf>;
}

function operation(route: RouteInfo): Operation {
  const body = route.hooks?.body;
  const op: Operation = {
    summary: route.hooks?.detail?.summary,
    tags: route.hooks?.detail?.tags ?? route.hooks?.tags,
    parameters: parameters(route),
    responses: responses(route),
    security: securityOf(route.hooks?.detail?.[AUTH_DETAIL]),
  };
  // Routes without a body declare an empty, closed one (http/fields.ts NoBody): nothing to show.
  const declaresFields = Object.keys(
    (body as { properties?: object } | undefined)?.properties ?? {},
  );
  if (body && declaresFields.length > 0) op.requestBody = requestBody(route, body);
  return op;
}

/** JSON; on the service/agent routes under any Content-Type too (http-api.md §1.1). */
function requestBody(route: RouteInfo, body: TSchema) {
  const optional =
    (body as unknown as Record<symbol, unknown>)[Symbol.for("TypeBox.Optional")] === "Optional";
  const schema = plain(body);
  if (!ANY_CONTENT_TYPE_ROUTES.has(`${route.method} ${route.path}`))
    return { required: !optional, content: { "application/json": { schema } } };
  return {
    required: !optional,
    description:
      "JSON, read as JSON whatever the Content-Type (the SDKs send text/plain, a form type or none)",
    content: { "application/json": { schema }, "*/*": { schema } },
  };
}

/** OpenAPI 3.1 built from the very schemas Elysia validates requests with. */
export function buildOpenApi(routes: RouteInfo[], version: string) {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const route of routes) {
    if (route.path === "/openapi.json" || route.path === "/docs") continue;
    const path = openApiPath(route.path);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Sigilum appliance API",
      version,
      description:
        "Self-hosted authorization registry for AI agents, compatible with the Sigilum protocol.",
    },
    components: {
      schemas: { Error: ErrorSchema },
      securitySchemes,
    },
    paths,
  };
}
