import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { webhooks } from "../../src/db/schema.ts";
import { authenticateApiKey } from "../../src/services/apiKeys.ts";
import { liveSecrets } from "../../src/webhooks/service.ts";
import { expectError } from "../helpers/assertions.ts";
import {
  ApiClient,
  type JsonResponse,
  ownerWithService,
  startTestServer,
  type TestServer,
} from "../helpers/server.ts";
import type {
  ApiErrorBody,
  ApiKey,
  ApiKeyCreated,
  ApiKeyList,
  Deleted,
  RotatedSecret,
  Service,
  ServiceList,
  TokenCreated,
  Webhook,
  WebhookCreated,
  WebhookList,
} from "../helpers/types.ts";
import { snapshot } from "./support.ts";

interface Tenant {
  client: ApiClient;
  serviceId: string;
  keyId: string;
  key: string;
  webhookId: string;
  secret: string;
}

type Call = [label: string, run: (c: ApiClient) => Promise<JsonResponse>];

/** Every service, key and webhook route, aimed at the given ids. */
function routes(serviceId: string, keyId: string, webhookId: string): Call[] {
  const svc = `/v1/services/${serviceId}`;
  const key = `${svc}/keys/${keyId}`;
  const hook = `${svc}/webhooks/${webhookId}`;
  return [
    ["GET service", (c) => c.get<Service>(svc)],
    ["PATCH service", (c) => c.patch<Service>(svc, { name: "Hijacked" })],
    ["DELETE service", (c) => c.delete<Deleted>(svc)],
    ["GET keys", (c) => c.get<ApiKeyList>(`${svc}/keys`)],
    ["POST keys", (c) => c.post<ApiKeyCreated>(`${svc}/keys`, { name: "intruder" })],
    ["DELETE key", (c) => c.delete<ApiKey>(key)],
    ["POST key roll", (c) => c.post<ApiKeyCreated>(`${key}/roll`, { grace_seconds: 0 })],
    ["GET webhooks", (c) => c.get<WebhookList>(`${svc}/webhooks`)],
    [
      "POST webhooks",
      (c) => c.post<WebhookCreated>(`${svc}/webhooks`, { url: "https://evil.example.com/" }),
    ],
    ["GET webhook", (c) => c.get<Webhook>(hook)],
    [
      "PATCH webhook",
      (c) => c.patch<Webhook>(hook, { url: "https://evil.example.com/", enabled: false }),
    ],
    ["DELETE webhook", (c) => c.delete<Deleted>(hook)],
    [
      "POST rotate-secret",
      (c) => c.post<RotatedSecret>(`${hook}/rotate-secret`, { grace_seconds: 0 }),
    ],
  ];
}

describe("cross-tenant isolation", () => {
  let t: TestServer;
  let a: Tenant;
  let b: Tenant;
  let bToken: ApiClient;

  async function tenant(): Promise<Tenant> {
    const o = await ownerWithService(t);
    const key = await o.client.post<ApiKeyCreated>(`/v1/services/${o.service.id}/keys`, {});
    const hook = await o.client.post<WebhookCreated>(`/v1/services/${o.service.id}/webhooks`, {
      url: "https://hooks.example.com/own",
    });
    expect(key.status).toBe(201);
    expect(hook.status).toBe(201);
    return {
      client: o.client,
      serviceId: o.service.id,
      keyId: key.body.id,
      key: key.body.key,
      webhookId: hook.body.id,
      secret: hook.body.secret,
    };
  }

  beforeAll(async () => {
    t = await startTestServer();
    a = await tenant();
    b = await tenant();
    const pat = await b.client.post<TokenCreated>("/v1/auth/tokens", { name: "b's token" });
    expect(pat.status).toBe(201);
    bToken = new ApiClient(t.url, null);
    bToken.bearer = pat.body.token;
  });
  afterAll(() => t.close());

  async function expectAIntact(): Promise<void> {
    const svc = await a.client.get<Service>(`/v1/services/${a.serviceId}`);
    expect(svc.status).toBe(200);
    expect(svc.body).toMatchObject({ name: "Service", active_key_count: 1, webhook_count: 1 });
    const keys = await a.client.get<ApiKeyList>(`/v1/services/${a.serviceId}/keys`);
    expect(keys.body.keys.map((k: { id: string }) => k.id)).toEqual([a.keyId]);
    expect(keys.body.keys[0]!.status).toBe("active");
    const hook = await a.client.get<Webhook>(`/v1/services/${a.serviceId}/webhooks/${a.webhookId}`);
    expect(hook.status).toBe(200);
    expect(hook.body).toMatchObject({
      url: "https://hooks.example.com/own",
      enabled: true,
      secret_rotated_at: null,
    });
    const auth = await authenticateApiKey(t.server.ctx, a.key);
    expect(auth?.service.id).toBe(a.serviceId);
    const [row] = await t.server.ctx.database.db
      .select()
      .from(webhooks)
      .where(eq(webhooks.id, a.webhookId));
    expect(liveSecrets(t.server.ctx, row!)).toEqual([a.secret]);
  }

  test("B never sees A's services in its list", async () => {
    const list = await b.client.get<ServiceList>("/v1/services");
    expect(list.body.services.map((s: { id: string }) => s.id)).toEqual([b.serviceId]);
    expect(list.body.pagination.total).toBe(1);
  });

  for (const via of ["session", "token"] as const) {
    describe(`B (${via}) using A's ids`, () => {
      test.each(routes("A", "A", "A").map(([label]) => [label]))(
        "%s → 404 NOT_FOUND and nothing changes",
        async (label) => {
          const client = via === "session" ? b.client : bToken;
          const call = routes(a.serviceId, a.keyId, a.webhookId).find(([l]) => l === label)!;
          const before = await snapshot(t);
          const res = await call[1](client);
          expectError(res, 404, "NOT_FOUND");
          expect(res.body.error).not.toContain(a.serviceId);
          expect(await snapshot(t)).toBe(before);
          await expectAIntact();
        },
      );
    });

    describe(`B (${via}) using A's key/webhook ids under B's own service`, () => {
      const mixed = routes("B", "A", "A").filter(([label]) =>
        [
          "DELETE key",
          "POST key roll",
          "GET webhook",
          "PATCH webhook",
          "DELETE webhook",
          "POST rotate-secret",
        ].includes(label),
      );
      test.each(mixed.map(([label]) => [label]))("%s → 404 NOT_FOUND", async (label) => {
        const client = via === "session" ? b.client : bToken;
        const call = routes(b.serviceId, a.keyId, a.webhookId).find(([l]) => l === label)!;
        const before = await snapshot(t);
        expectError(await call[1](client), 404, "NOT_FOUND");
        expect(await snapshot(t)).toBe(before);
        await expectAIntact();
      });
    });
  }

  test("B's own resources still work for B (the 404s are not a broken route)", async () => {
    for (const [label, run] of routes(b.serviceId, b.keyId, b.webhookId)) {
      if (label.startsWith("DELETE") || label.startsWith("POST key roll")) continue;
      const res = await run(b.client);
      expect([200, 201]).toContain(res.status);
    }
  });

  describe("no credentials", () => {
    test.each(routes("A", "A", "A").map(([label]) => [label]))(
      "%s → 401 UNAUTHORIZED and nothing changes",
      async (label) => {
        const call = routes(a.serviceId, a.keyId, a.webhookId).find(([l]) => l === label)!;
        const before = await snapshot(t);
        const anonymous = new ApiClient(t.url, t.origin);
        expectError(await call[1](anonymous), 401, "UNAUTHORIZED");
        const forged = new ApiClient(t.url, t.origin);
        forged.cookie = "forged-session-token";
        expectError(await call[1](forged), 401, "UNAUTHORIZED");
        const badToken = new ApiClient(t.url, null);
        badToken.bearer = "sgl_pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        expectError(await call[1](badToken), 401, "UNAUTHORIZED");
        // A service API key is not an owner credential.
        const serviceKey = new ApiClient(t.url, null);
        serviceKey.bearer = a.key;
        expectError(await call[1](serviceKey), 401, "UNAUTHORIZED");
        expect(await snapshot(t)).toBe(before);
      },
    );

    test("GET/POST /v1/services → 401", async () => {
      const anonymous = new ApiClient(t.url, t.origin);
      expectError(await anonymous.get<ApiErrorBody>("/v1/services"), 401, "UNAUTHORIZED");
      const before = await snapshot(t);
      expectError(
        await anonymous.post<ApiErrorBody>("/v1/services", { slug: "anon-svc", name: "Anon" }),
        401,
        "UNAUTHORIZED",
      );
      expect(await snapshot(t)).toBe(before);
    });
  });

  test("a cookie-authenticated unsafe call from another origin → 403 CSRF_REJECTED", async () => {
    const crossSite = new ApiClient(t.url, "https://evil.example.com");
    crossSite.cookie = a.client.cookie;
    const before = await snapshot(t);
    for (const [label, run] of routes(a.serviceId, a.keyId, a.webhookId)) {
      if (label.startsWith("GET")) continue;
      expectError(await run(crossSite), 403, "CSRF_REJECTED");
    }
    expect(await snapshot(t)).toBe(before);
    await expectAIntact();
  });
});
