import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";

// http-api.md §1.5: /openapi.json states each operation's authentication, taken from the auth
// macro the route declares; each stated requirement is checked against what the route does
// with a request that presents no credentials.

const OWNER = [{ session: [] }, { personalAccessToken: [] }];
const KEY = { serviceApiKey: [] };
const SIGNATURE = { agentSignature: [] };

/** The routes that are not owner routes; every other /v1 operation takes owner credentials. */
const NOT_OWNER: Record<string, unknown[]> = {
  "POST /v1/auth/signup": [],
  "POST /v1/auth/login": [],
  "POST /v1/auth/signup/options": [],
  "POST /v1/auth/signup/passkey": [],
  "POST /v1/auth/login/options": [],
  "POST /v1/auth/login/passkey": [],
  "POST /v1/claims": [{ ...KEY, ...SIGNATURE }],
  "POST /v1/usage/events": [KEY],
  "GET /v1/namespaces/claims": [KEY],
  "GET /v1/verify": [KEY, SIGNATURE],
  "GET /v1/namespaces/{namespace}": [KEY, SIGNATURE, ...OWNER],
};

type Operations = Record<string, Record<string, { security?: unknown[] }>>;

let t: TestServer;
let spec: { paths: Operations; components: { securitySchemes: Record<string, unknown> } };

beforeAll(async () => {
  t = await startTestServer();
  spec = (await (await fetch(`${t.url}/openapi.json`)).json()) as typeof spec;
});
afterAll(() => t.close());

function operations(): { key: string; path: string; method: string; security?: unknown[] }[] {
  return Object.entries(spec.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, op]) => ({
      key: `${method.toUpperCase()} ${path}`,
      path,
      method: method.toUpperCase(),
      security: op.security,
    })),
  );
}

/** The operation's path with its parameters filled in, and a query the route validates. */
function target(path: string): string {
  const filled = path.replace(/\{[^}]+\}/g, "x");
  return filled === "/v1/verify" ? `${filled}?namespace=x&service=x` : filled;
}

async function anonymous(method: string, path: string): Promise<Response> {
  const unsafe = !["GET", "HEAD"].includes(method);
  return fetch(`${t.url}${target(path)}`, {
    method,
    headers: unsafe ? { "content-type": "application/json" } : {},
    body: unsafe ? "{}" : undefined,
  });
}

describe("OpenAPI security per operation", () => {
  test("the four authentication modes are declared as security schemes", () => {
    expect(spec.components.securitySchemes).toEqual({
      session: expect.objectContaining({ type: "apiKey", in: "cookie", name: "sigilum_session" }),
      personalAccessToken: expect.objectContaining({ type: "http", scheme: "bearer" }),
      serviceApiKey: expect.objectContaining({ type: "http", scheme: "bearer" }),
      agentSignature: expect.objectContaining({ type: "apiKey", in: "header", name: "signature" }),
    });
  });

  test("every /v1 operation states the credentials its route declares; the rest are public", () => {
    const ops = operations();
    expect(ops.filter((op) => op.path.startsWith("/v1/")).length).toBeGreaterThan(30);
    const wrong = ops
      .map((op) => {
        const expected = op.path.startsWith("/v1/") ? (NOT_OWNER[op.key] ?? OWNER) : [];
        return { op: op.key, security: op.security, expected };
      })
      .filter(({ security, expected }) => !Bun.deepEquals(security, expected));
    expect(wrong).toEqual([]);
    for (const key of Object.keys(NOT_OWNER)) expect(ops.map((op) => op.key)).toContain(key);
  });

  test("operations stating a requirement answer 401 UNAUTHORIZED to a request without credentials; public ones do not", async () => {
    const answers = await Promise.all(
      operations().map(async (op) => {
        const res = await anonymous(op.method, op.path);
        const code = res.status === 401 ? ((await res.json()) as { code: string }).code : null;
        return { op: op.key, secured: (op.security ?? []).length > 0, status: res.status, code };
      }),
    );
    const mismatched = answers.filter(
      (a) => a.secured !== (a.status === 401) || (a.secured && a.code !== "UNAUTHORIZED"),
    );
    expect(mismatched).toEqual([]);
  });
});
