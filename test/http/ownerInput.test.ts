import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildApp } from "../../src/app.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { expectError } from "../helpers/assertions.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { everyRow } from "../helpers/rows.ts";
import {
  ApiClient,
  type JsonResponse,
  PASSWORD,
  signUp,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";

// http-api.md §1.1 / quality.md §2: owner routes reject what they do not declare — unknown query
// parameters and body fields (a route without a body takes none, `{}` aside) — and the data is
// unchanged afterwards. Service- and agent-facing routes keep ignoring unknown fields.
// Pagination integers are plain decimal digits (§1.4).

const receiver = startReceiver();
let t: TestServer;
let s: ServiceSetup;
let webhookId: string;
let deliveryId: string;
let claimId: string;
let tokenId: string;
let sessionId: string;
let keyId: string;

beforeAll(async () => {
  t = await startTestServer({
    env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" },
  });
  s = await ownerWithKey(t);
  const svc = `/v1/services/${s.serviceId}`;
  keyId = (await s.client.get(`${svc}/keys`)).body.keys[0].id;
  webhookId = (await s.client.post(`${svc}/webhooks`, { url: `${receiver.url}/hook` })).body.id;
  claimId = (await submitClaim(t, await newAgent(s.namespace), s.apiKey, s.slug)).body.claim_id;
  await receiver.waitFor(1);
  await t.server.ctx.deliveryWorker.drain();
  const deliveries = await s.client.get(`${svc}/webhooks/${webhookId}/deliveries`);
  deliveryId = deliveries.body.deliveries[0].id;
  tokenId = (await s.client.post("/v1/auth/tokens", { name: "ci" })).body.id;
  sessionId = (await s.client.get("/v1/auth/sessions")).body.sessions[0].id;
});
afterAll(async () => {
  await t.close();
  receiver.stop();
});

const snapshot = () => everyRow(t);

interface OwnerRoute {
  method: string;
  path: () => string;
  /** A body the route accepts, for routes that take one. */
  body?: () => Record<string, unknown>;
}

// Passkey bodies of the right shape (the routes refuse them before verifying anything).
const NO_PASSKEY = "pk_00000000000000000000";
const REGISTRATION = {
  id: "AAAA",
  rawId: "AAAA",
  type: "public-key",
  response: { clientDataJSON: "e30", attestationObject: "AA" },
  clientExtensionResults: {},
};

const svc = () => `/v1/services/${s.serviceId}`;
const hook = () => `${svc()}/webhooks/${webhookId}`;

/** Every owner route (signed-in routes plus sign-up and login), aimed at real resources. */
const ROUTES: OwnerRoute[] = [
  { method: "POST", path: () => "/v1/auth/signup", body: () => signupBody() },
  {
    method: "POST",
    path: () => "/v1/auth/login",
    body: () => ({ login: s.namespace, password: PASSWORD }),
  },
  { method: "POST", path: () => "/v1/auth/logout" },
  { method: "GET", path: () => "/v1/auth/me" },
  { method: "GET", path: () => "/v1/auth/sessions" },
  { method: "DELETE", path: () => `/v1/auth/sessions/${sessionId}` },
  {
    method: "POST",
    path: () => "/v1/auth/password",
    body: () => ({ current_password: PASSWORD, new_password: PASSWORD }),
  },
  { method: "GET", path: () => "/v1/auth/tokens" },
  { method: "POST", path: () => "/v1/auth/tokens", body: () => ({ name: "another" }) },
  { method: "DELETE", path: () => `/v1/auth/tokens/${tokenId}` },
  { method: "DELETE", path: () => "/v1/auth/account" },
  { method: "GET", path: () => "/v1/auth/passkeys/options" },
  { method: "POST", path: () => "/v1/auth/passkeys", body: () => ({ response: REGISTRATION }) },
  { method: "GET", path: () => "/v1/auth/passkeys" },
  { method: "PATCH", path: () => `/v1/auth/passkeys/${NO_PASSKEY}`, body: () => ({ name: "x" }) },
  { method: "DELETE", path: () => `/v1/auth/passkeys/${NO_PASSKEY}` },
  {
    method: "POST",
    path: () => "/v1/auth/signup/options",
    body: () => {
      const { password: _, ...rest } = signupBody();
      return rest;
    },
  },
  {
    method: "POST",
    path: () => "/v1/auth/signup/passkey",
    body: () => {
      const { password: _, ...rest } = signupBody();
      return { ...rest, response: REGISTRATION };
    },
  },
  { method: "POST", path: () => "/v1/auth/login/options" },
  {
    method: "POST",
    path: () => "/v1/auth/login/passkey",
    body: () => ({
      response: {
        ...REGISTRATION,
        response: { clientDataJSON: "e30", authenticatorData: "AA", signature: "AA" },
      },
    }),
  },
  { method: "GET", path: () => "/v1/services" },
  {
    method: "POST",
    path: () => "/v1/services",
    body: () => ({ slug: uniqueName("x"), name: "X" }),
  },
  { method: "GET", path: svc },
  { method: "PATCH", path: svc, body: () => ({ name: "Renamed" }) },
  { method: "DELETE", path: svc },
  { method: "GET", path: () => `${svc()}/keys` },
  { method: "POST", path: () => `${svc()}/keys`, body: () => ({ name: "k" }) },
  { method: "DELETE", path: () => `${svc()}/keys/${keyId}` },
  { method: "POST", path: () => `${svc()}/keys/${keyId}/roll`, body: () => ({ grace_seconds: 5 }) },
  { method: "GET", path: () => `${svc()}/webhooks` },
  {
    method: "POST",
    path: () => `${svc()}/webhooks`,
    body: () => ({ url: "https://hooks.example.com/x" }),
  },
  { method: "GET", path: hook },
  { method: "PATCH", path: hook, body: () => ({ description: "d" }) },
  { method: "DELETE", path: hook },
  { method: "POST", path: () => `${hook()}/rotate-secret`, body: () => ({ grace_seconds: 5 }) },
  { method: "POST", path: () => `${hook()}/test` },
  { method: "GET", path: () => `${hook()}/deliveries` },
  { method: "GET", path: () => `${hook()}/deliveries/${deliveryId}` },
  { method: "POST", path: () => `${hook()}/deliveries/${deliveryId}/redeliver` },
  {
    method: "POST",
    path: () => `${hook()}/recover`,
    body: () => ({ since: new Date(Date.now() - 3_600_000).toISOString() }),
  },
  { method: "GET", path: () => `/v1/namespaces/${s.namespace}/claims` },
  { method: "GET", path: () => `/v1/claims/${claimId}` },
  { method: "POST", path: () => `/v1/claims/${claimId}/approve` },
  { method: "POST", path: () => `/v1/claims/${claimId}/reject` },
  { method: "POST", path: () => `/v1/claims/${claimId}/revoke` },
  { method: "GET", path: () => `/v1/namespaces/${s.namespace}/policy` },
  { method: "GET", path: () => `/v1/namespaces/${s.namespace}/usage` },
  { method: "GET", path: () => `/v1/namespaces/${s.namespace}/usage/events` },
  { method: "GET", path: () => `/v1/namespaces/${s.namespace}/events` },
  { method: "GET", path: () => `/v1/namespaces/${s.namespace}/stats/claims` },
  { method: "GET", path: () => `/v1/namespaces/${s.namespace}/stats/webhooks` },
  {
    method: "PUT",
    path: () => `/v1/namespaces/${s.namespace}/policy`,
    body: () => ({ auto_approve_services: [] }),
  },
];

function signupBody() {
  const namespace = uniqueName("hyg");
  return { namespace, email: `${namespace}@example.com`, password: PASSWORD };
}

const label = (r: OwnerRoute) => `${r.method} ${r.path()}`;

function send(r: OwnerRoute, path: string, body?: unknown, headers?: Record<string, string>) {
  return s.client.request(r.method, path, body, headers);
}

function expectField(res: JsonResponse, field: string, what: string) {
  try {
    expectError(res, 400, "VALIDATION_ERROR");
    expect(res.body.details.map((d: { field: string }) => d.field)).toContain(field);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
}

describe("owner routes reject unknown query parameters and body fields", () => {
  test("every owner route: an unknown query parameter → 400 naming it; nothing changes", async () => {
    const before = await snapshot();
    for (const r of ROUTES) {
      const res = await send(r, `${r.path()}?unexpected_param=1`, r.body?.());
      expectField(res, "unexpected_param", label(r));
    }
    expect(await snapshot()).toBe(before);
    expect((await s.client.get("/v1/auth/me")).status).toBe(200);
  });

  test("routes without a body: any body field → 400 naming it; the wrong media type → 415; nothing changes", async () => {
    const before = await snapshot();
    for (const r of ROUTES.filter((r) => !r.body && r.method !== "GET")) {
      expectField(await send(r, r.path(), { unexpected: true }), "unexpected", label(r));
      expectField(await send(r, r.path(), { reason: "x", extra: 1 }), "extra", label(r));
      const typed = await send(r, r.path(), "x=1", {
        "content-type": "application/x-www-form-urlencoded",
      });
      expectError(typed, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    expect(await snapshot()).toBe(before);
    expect((await s.client.get("/v1/auth/me")).status).toBe(200);
  });

  test("an empty object or no body is fine on a route without a body", async () => {
    const owner = await signUp(t);
    const token = (await owner.client.post("/v1/auth/tokens", { name: "t" })).body.id;
    expect((await owner.client.delete(`/v1/auth/tokens/${token}`, {})).status).toBe(200);
    expect((await owner.client.get("/v1/auth/me")).status).toBe(200);
    expect((await owner.client.post("/v1/auth/logout", {})).status).toBe(200);
    expectError(await owner.client.get("/v1/auth/me"), 401, "UNAUTHORIZED");
  });

  test("every owner route in the app declares a closed query and body schema", () => {
    // Routes services and agents call keep ignoring unknown fields (reference clients).
    const open = new Set([
      "POST /v1/claims",
      "POST /v1/usage/events",
      "GET /v1/verify",
      "GET /v1/namespaces/claims",
      "GET /v1/namespaces/:namespace",
    ]);
    const app = buildApp(t.server.ctx);
    const owner = app.routes.filter(
      (r) => r.path.startsWith("/v1/") && !open.has(`${r.method} ${r.path}`),
    );
    expect(owner.length).toBeGreaterThanOrEqual(ROUTES.length);
    const loose = owner
      .filter((r) => {
        const hooks = r.hooks as { query?: { additionalProperties?: unknown }; body?: unknown };
        const body = hooks.body as { additionalProperties?: unknown } | undefined;
        return hooks.query?.additionalProperties !== false || body?.additionalProperties !== false;
      })
      .map((r) => `${r.method} ${r.path}`);
    expect(loose).toEqual([]);
    // The HTTP cases above cover every one of them.
    const covered = new Set(ROUTES.map((r) => `${r.method} ${r.path()}`.replace(/\?.*$/, ""))).size;
    expect(covered).toBe(owner.length);
  });

  test("service and agent routes still ignore unknown query parameters", async () => {
    const key = new ApiClient(t.url, null);
    key.bearer = s.apiKey;
    const verify = await key.get(
      `/v1/verify?namespace=${s.namespace}&public_key=ed25519:${Buffer.alloc(32).toString("base64")}&sdk=1`,
    );
    expect(verify.status).toBe(200);
    expect((await key.get("/v1/namespaces/claims?sdk=1")).status).toBe(200);
    expect((await key.get(`/v1/namespaces/${s.namespace}?sdk=1`)).status).toBe(200);
  });
});

describe("pagination integers are plain decimal digits", () => {
  const NOT_DIGITS = [
    "0x10",
    "1e1",
    " 16",
    "16 ",
    "+16",
    "16.0",
    "0b1",
    "0o7",
    "-0",
    "１６",
    "1_0",
  ];

  test("owner list routes: hex, exponent, sign, spaces, decimals → 400 naming the field", async () => {
    const lists = [
      "/v1/services",
      "/v1/auth/sessions",
      "/v1/auth/tokens",
      `${svc()}/keys`,
      `${svc()}/webhooks`,
      `${hook()}/deliveries`,
      `/v1/namespaces/${s.namespace}/claims`,
    ];
    for (const path of lists) {
      for (const field of ["limit", "offset"]) {
        for (const value of NOT_DIGITS) {
          const res = await s.client.get(`${path}?${field}=${encodeURIComponent(value)}`);
          expectField(res, field, `${path} ${field}=${JSON.stringify(value)}`);
        }
      }
      const ok = await s.client.get(`${path}?limit=016&offset=0`);
      expect(ok.status).toBe(200);
      expect(ok.body.pagination).toMatchObject({ limit: 16, offset: 0 });
    }
  });

  test("the claims feed too", async () => {
    const key = new ApiClient(t.url, null);
    key.bearer = s.apiKey;
    for (const value of NOT_DIGITS) {
      const res = await key.get(`/v1/namespaces/claims?limit=${encodeURIComponent(value)}`);
      expectField(res, "limit", `feed limit=${JSON.stringify(value)}`);
    }
    const ok = await key.get("/v1/namespaces/claims?limit=1500");
    expect(ok.status).toBe(200);
    expect(ok.body.pagination.limit).toBe(1500);
  });
});
