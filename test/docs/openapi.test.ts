import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { specOfApp } from "../../scripts/openapi.ts";
import { isHidden, UNDOCUMENTED } from "../../src/docs/index.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

// /openapi.json must describe every registered route completely (http-api.md §2): each route of
// the app's own route list is walked, so a route added without its description fails here.

interface Op {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: unknown[];
  parameters: { name: string; in: string; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema?: unknown }> }>;
}
interface Spec {
  servers: { url: string }[];
  tags: { name: string }[];
  paths: Record<string, Record<string, Op>>;
  components: {
    schemas: Record<string, { required?: string[] }>;
    responses: Record<string, { content: Record<string, { schema: { $ref: string } }> }>;
  };
}

/** Health probes answer no client error; every other route lists its 4XX answers. */
const PROBES = new Set(["GET /healthz", "GET /health", "GET /readyz", "GET /metrics"]);

let t: TestServer;
let spec: Spec;
const { routes } = specOfApp();
// Hidden routes (the dashboard's shell and assets) are not part of the API.
const documented = routes.filter(
  (r) => !UNDOCUMENTED.has(`${r.method} ${r.path}`) && !isHidden(r as { hooks?: object }),
);

beforeAll(async () => {
  t = await startTestServer();
  spec = (await (await fetch(`${t.url}/openapi.json`)).json()) as Spec;
});
afterAll(() => t.close());

const openApiPath = (path: string) =>
  path.replace(/:([A-Za-z0-9_]+)/g, "{$1}").replace(/(.)\/$/, "$1");
const opOf = (route: { method: string; path: string }) =>
  spec.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];

/** The gaps of one operation; empty when it is fully described. */
function gaps(route: { method: string; path: string; hooks: unknown }): string[] {
  const op = opOf(route);
  if (!op) return ["not in /openapi.json"];
  const out: string[] = [];
  const declared = (route.hooks as { detail?: { operationId?: string } }).detail?.operationId;
  if (!declared) out.push("no operationId declared in its detail");
  if (op.operationId !== declared)
    out.push(`operationId ${op.operationId} is not the declared one`);
  if (!op.summary) out.push("no summary");
  if (!op.tags?.length) out.push("no tags");
  if (!Array.isArray(op.security)) out.push("no security");
  const success = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
  if (!success.some(([, r]) => Object.values(r.content ?? {}).some((m) => m.schema)))
    out.push("no success response with a schema");
  if (op.responses.default?.$ref !== "#/components/responses/InternalError")
    out.push("no default error response");
  const errors = Object.entries(op.responses).filter(([status]) => /^4\d\d$/.test(status));
  if (!PROBES.has(`${route.method} ${route.path}`) && errors.length === 0)
    out.push("no 4XX responses");
  for (const [status, r] of errors)
    if (!r.$ref?.startsWith("#/components/responses/")) out.push(`${status} is not a shared error`);
  return out;
}

describe("OpenAPI completeness", () => {
  test("every registered route is documented with no gap", () => {
    expect(documented.length).toBeGreaterThan(45);
    const found = documented
      .map((route) => ({ route: `${route.method} ${route.path}`, gaps: gaps(route) }))
      .filter((r) => r.gaps.length > 0);
    expect(found).toEqual([]);
  });

  test("operationIds are unique, stable camelCase; every tag is declared", () => {
    const ops = Object.values(spec.paths).flatMap((byMethod) => Object.values(byMethod));
    const ids = ops.map((op) => op.operationId!);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !/^[a-z][A-Za-z0-9]*$/.test(id))).toEqual([]);
    const tags = new Set(spec.tags.map((tag) => tag.name));
    expect(ops.flatMap((op) => op.tags ?? []).filter((tag) => !tags.has(tag))).toEqual([]);
    expect(opOf({ method: "POST", path: "/v1/claims" })?.operationId).toBe("submitClaim");
  });

  test("errors share the Error schema of http-api.md §1.2", () => {
    expect(spec.components.schemas.Error?.required).toEqual(["error", "code", "request_id"]);
    for (const response of Object.values(spec.components.responses))
      expect(response.content["application/json"]?.schema.$ref).toBe("#/components/schemas/Error");
    const create = opOf({ method: "POST", path: "/v1/services/" })!;
    expect(Object.keys(create.responses).sort()).toEqual(
      ["201", "400", "401", "403", "409", "413", "415", "429", "503", "default"].sort(),
    );
    // Service routes read any Content-Type, so they never answer 415.
    expect(opOf({ method: "POST", path: "/v1/claims" })!.responses["415"]).toBeUndefined();
  });

  test("POST /v1/claims documents 201 for a new claim and 200 for the active one it repeats", () => {
    const responses = opOf({ method: "POST", path: "/v1/claims" })!.responses;
    for (const status of ["200", "201"])
      expect(responses[status]?.content?.["application/json"]?.schema).toMatchObject({
        required: expect.arrayContaining(["claim_id", "status", "agent_key", "message"]),
      });
  });

  test("integers are documented as integers with their range, never as strings", () => {
    const feed = opOf({ method: "GET", path: "/v1/namespaces/claims" })!;
    const limit = feed.parameters.find((p) => p.name === "limit")!;
    expect(limit.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 2000 });
    const list = opOf({ method: "GET", path: "/v1/services/" })!;
    expect(list.parameters.find((p) => p.name === "offset")!.schema).toMatchObject({
      type: "integer",
      minimum: 0,
    });
    const json = JSON.stringify(spec);
    expect(json).not.toContain('"format":"integer"');
    expect(json).not.toContain('"format":"numeric"');
    expect(json).not.toContain("x-sigilum-doc-as");
    expect(json).not.toContain("patternError");
  });

  test("servers: this server, or the configured public URL", () => {
    expect(spec.servers).toEqual([{ url: "/" }]);
    const configured = specOfApp({ SIGILUM_PUBLIC_URL: "https://registry.example.com" }).spec;
    expect(configured.servers).toEqual([{ url: "https://registry.example.com" }]);
  });
});
