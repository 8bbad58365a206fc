import type { TSchema } from "elysia";
import { AUTH_DETAIL, type DeclaredAuth, securityOf, securitySchemes } from "../http/auth.ts";
import { ANY_CONTENT_TYPE_ROUTES } from "../http/body.ts";
import { DOC_AS } from "../http/pagination.ts";

/** What a route states about itself in its `detail` (besides what Elysia's OpenAPI type knows). */
export interface RouteDetail {
  operationId?: string;
  summary?: string;
  tags?: string[];
  description?: string;
  /** Responses no TypeBox model describes: other media types (DID documents, metrics), 304. */
  responses?: Record<string, unknown>;
  /** Not part of the API (the dashboard's routes): left out of the document. */
  hide?: boolean;
  [AUTH_DETAIL]?: DeclaredAuth;
}

/** What the generator needs from Elysia's route list. */
export interface RouteInfo {
  method: string;
  path: string;
  hooks?: {
    body?: TSchema;
    query?: TSchema;
    params?: TSchema;
    response?: Record<string, TSchema> | TSchema;
    detail?: RouteDetail;
    tags?: string[];
  };
}

/** Routes that describe the API rather than belong to it. */
export const UNDOCUMENTED = new Set(["GET /openapi.json", "GET /docs"]);

const ErrorSchema = {
  type: "object",
  required: ["error", "code", "request_id"],
  properties: {
    error: { type: "string", description: "human-readable message" },
    code: { type: "string", description: "UPPER_SNAKE_CODE, e.g. VALIDATION_ERROR, NOT_FOUND" },
    details: {
      type: "array",
      description: "validation errors only: one entry per offending field",
      items: {
        type: "object",
        required: ["field", "message"],
        properties: {
          field: { type: "string", description: "dotted path for nested fields" },
          message: { type: "string" },
        },
      },
    },
    request_id: { type: "string", description: "the X-Request-ID of the request" },
  },
};

const RETRY_AFTER = {
  "Retry-After": { description: "seconds to wait", schema: { type: "integer", minimum: 0 } },
};

/** The error answers of http-api.md §1.2, each a shared response with the Error body. */
const ERRORS = {
  400: ["BadRequest", "Invalid input: VALIDATION_ERROR, INVALID_JSON, VERIFICATION_FAILED…"],
  401: ["Unauthorized", "Missing or invalid credentials: UNAUTHORIZED, SIGNATURE_*…"],
  403: ["Forbidden", "Not allowed: CSRF_REJECTED, SERVICE_MISMATCH, SIGNUP_DISABLED…"],
  404: ["NotFound", "No such resource, or not yours: NOT_FOUND, NAMESPACE_NOT_FOUND"],
  409: ["Conflict", "State conflict: SLUG_TAKEN, LIMIT_REACHED, LAST_CREDENTIAL, NONCE_REPLAY…"],
  413: ["PayloadTooLarge", "Body over the size limit: PAYLOAD_TOO_LARGE"],
  415: ["UnsupportedMediaType", "Body is not application/json: UNSUPPORTED_MEDIA_TYPE"],
  429: ["RateLimited", "Too many requests: RATE_LIMITED (see Retry-After)"],
  503: ["ServiceUnavailable", "Storage unreachable: SERVICE_UNAVAILABLE (see Retry-After)"],
} as const;
type ErrorStatus = keyof typeof ERRORS;

function errorResponses() {
  const json = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
  const out: Record<string, unknown> = {
    InternalError: { description: "Unexpected failure: INTERNAL_ERROR", content: json },
  };
  for (const [status, [name, description]] of Object.entries(ERRORS)) {
    const retry = status === "429" || status === "503";
    out[name] = { description, content: json, ...(retry ? { headers: RETRY_AFTER } : {}) };
  }
  return out;
}

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}").replace(/(.)\/$/, "$1");
}

// Keywords TypeBox and this app add for their own use, which are not JSON Schema.
const PRIVATE_KEYWORDS = new Set(["patternError", DOC_AS]);

// Elysia's t.Integer, t.Numeric and t.BooleanString also accept the value as a string (for query
// strings); JSON carries the real type, which is all a client needs to see.
const COERCED_FROM_STRING = new Set(["integer", "numeric", "boolean"]);

function withoutStringCoercion(value: unknown): unknown {
  const { anyOf, ...rest } = value as { anyOf?: Record<string, unknown>[] };
  if (anyOf?.length !== 2) return value;
  const coerced = anyOf.findIndex(
    (s) => s.type === "string" && COERCED_FROM_STRING.has(s.format as string),
  );
  return coerced === -1 ? value : { ...rest, ...anyOf[1 - coerced] };
}

/** Plain JSON Schema: TypeBox's symbol keys and the app's private keywords removed. */
function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema), (key, value) => {
    if (PRIVATE_KEYWORDS.has(key)) return undefined;
    return value && typeof value === "object" && "anyOf" in value
      ? withoutStringCoercion(value)
      : value;
  });
}

/** A parameter's schema; a query string read as an integer is documented as one. */
function parameterSchema(prop: TSchema): Record<string, unknown> {
  const asInteger = (prop as Record<string, unknown>)[DOC_AS] as object | undefined;
  return asInteger ? { description: prop.description, ...asInteger } : plain(prop);
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
        schema: parameterSchema(prop),
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

const SUCCESS: Record<string, string> = { 200: "OK", 201: "Created", 202: "Accepted" };

function successResponses(route: RouteInfo): Record<string, unknown> {
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
      description: schema.description ?? SUCCESS[status] ?? "Answer",
      content: { "application/json": { schema: plain(schema) } },
    };
  }
  return { ...out, ...route.hooks?.detail?.responses };
}

/**
 * The error statuses an operation can answer, by where it lives, how it authenticates and its
 * method (http-api.md §1): a generic set, not a per-route promise.
 */
function errorStatuses(route: RouteInfo, secured: boolean): ErrorStatus[] {
  const v1 = route.path.startsWith("/v1/");
  const hasParams = route.path.includes(":");
  const unsafe = route.method !== "GET";
  const anyContentType = ANY_CONTENT_TYPE_ROUTES.has(`${route.method} ${route.path}`);
  const byService = secured && !route.hooks?.detail?.[AUTH_DETAIL]?.owner;
  const applies: Record<ErrorStatus, boolean> = {
    400: v1 || hasParams,
    401: secured,
    // CSRF on unsafe owner calls; service/signature mismatches on the service routes.
    403: v1 && (unsafe || byService),
    // A service route's namespace may not exist.
    404: hasParams || anyContentType,
    409: v1 && unsafe,
    413: v1 && unsafe,
    415: v1 && unsafe && !anyContentType,
    429: v1,
    503: v1 || hasParams,
  };
  return (Object.keys(ERRORS).map(Number) as ErrorStatus[]).filter((status) => applies[status]);
}

function responses(route: RouteInfo, secured: boolean) {
  const out = successResponses(route);
  for (const status of errorStatuses(route, secured))
    out[status] ??= { $ref: `#/components/responses/${ERRORS[status][0]}` };
  out.default = { $ref: "#/components/responses/InternalError" };
  return out;
}

const capitalised = (word: string) => word[0]!.toUpperCase() + word.slice(1);

/** `GET /v1/services/:serviceId/keys` → `getV1ServicesByServiceIdKeys`: for undeclared ids only. */
function derivedOperationId(method: string, path: string): string {
  const words = path
    .split(/[^A-Za-z0-9:]+/)
    .filter(Boolean)
    .map((w) => (w.startsWith(":") ? `by${capitalised(w.slice(1))}` : w))
    .map(capitalised);
  return method.toLowerCase() + words.join("");
}

export interface Operation {
  operationId: string;
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
  const detail = route.hooks?.detail;
  const security = securityOf(detail?.[AUTH_DETAIL]);
  const op: Operation = {
    operationId: detail?.operationId ?? derivedOperationId(route.method, route.path),
    summary: detail?.summary,
    tags: detail?.tags ?? route.hooks?.tags,
    parameters: parameters(route),
    responses: responses(route, security.length > 0),
    security,
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

const TAGS: Record<string, string> = {
  health: "Liveness, readiness and metrics",
  auth: "Owner accounts, sessions and personal access tokens",
  services: "Services an owner registers",
  "api keys": "A service's API keys",
  webhooks: "Webhooks and their deliveries",
  claims: "Authorization requests (claims) and the owner's decisions",
  runtime: "What services ask at run time: verify, the approved-claims feed, namespace facts",
  usage: "What agents did through a service's gateway",
  did: "Public DID documents",
};

/** Routes that are not part of the API (the dashboard) say `detail: { hide: true }`. */
export function isHidden(route: Pick<RouteInfo, "hooks">): boolean {
  return route.hooks?.detail?.hide === true;
}

/** OpenAPI 3.1 built from the very schemas Elysia validates requests and responses with. */
export function buildOpenApi(routes: RouteInfo[], version: string, serverUrl = "/") {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const route of routes) {
    if (UNDOCUMENTED.has(`${route.method} ${route.path}`) || isHidden(route)) continue;
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
    servers: [{ url: serverUrl }],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    components: {
      schemas: { Error: ErrorSchema },
      responses: errorResponses(),
      securitySchemes,
    },
    paths,
  };
}

export type OpenApiSpec = ReturnType<typeof buildOpenApi>;
