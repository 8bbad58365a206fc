import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signUp, startTestServer, type TestServer } from "./helpers/server.ts";
import type {
  ApiErrorBody,
  ApiKey,
  ApiKeyCreated,
  ApiKeyList,
  Deleted,
  Service,
  ServiceList,
  WebhookCreated,
  WebhookList,
} from "./helpers/types.ts";

// The user's seed page (service-management.txt), step by step, with its exact names and codes.
describe("seed usage example", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  test("create a service, generate a key, configure a webhook, list everything", async () => {
    const { client } = await signUp(t, "acme");

    const created = await client.post<Service>("/v1/services", {
      slug: "api-gateway",
      name: "API Gateway",
      description: "Main API gateway service",
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      slug: "api-gateway",
      name: "API Gateway",
      description: "Main API gateway service",
    });
    const serviceId: string = created.body.id;
    expect(serviceId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );

    const key = await client.post<ApiKeyCreated>(`/v1/services/${serviceId}/keys`);
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^sgl_sk_prod_[0-9A-Za-z]{38}$/);
    expect(key.body.id).toMatch(/^key_[0-9A-Za-z]{20}$/);
    expect(key.body.prefix).toBe(key.body.key.slice(0, 16));
    expect(key.body.prefix.startsWith("sgl_sk_p")).toBe(true);

    const webhook = await client.post<WebhookCreated>(`/v1/services/${serviceId}/webhooks`, {
      url: "https://api.example.com/webhooks/sigilum",
      events: ["request.approved", "request.revoked"],
    });
    expect(webhook.status).toBe(201);
    expect(webhook.body.id).toMatch(/^wh_[0-9A-Za-z]{20}$/);
    expect(webhook.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhook.body.events).toEqual(["request.approved", "request.revoked"]);

    const services = await client.get<ServiceList>("/v1/services");
    expect(services.status).toBe(200);
    expect(services.body.services.map((s: { id: string }) => s.id)).toEqual([serviceId]);
    expect(services.body.services[0]).toMatchObject({ active_key_count: 1, webhook_count: 1 });

    const one = await client.get<Service>(`/v1/services/${serviceId}`);
    expect(one.status).toBe(200);
    expect(one.body.slug).toBe("api-gateway");

    const patched = await client.patch<Service>(`/v1/services/${serviceId}`, {
      name: "Gateway",
      description: "Edge",
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: "Gateway",
      description: "Edge",
      slug: "api-gateway",
    });

    const keys = await client.get<ApiKeyList>(`/v1/services/${serviceId}/keys`);
    expect(keys.status).toBe(200);
    expect(keys.body.keys).toHaveLength(1);
    expect(keys.body.keys[0]!.id).toBe(key.body.id);
    expect(JSON.stringify(keys.body)).not.toContain(key.body.key);

    const webhooks = await client.get<WebhookList>(`/v1/services/${serviceId}/webhooks`);
    expect(webhooks.status).toBe(200);
    expect(webhooks.body.webhooks).toHaveLength(1);
    expect("secret" in webhooks.body.webhooks[0]!).toBe(false);
    expect(JSON.stringify(webhooks.body)).not.toContain(webhook.body.secret);

    const revoked = await client.delete<ApiKey>(`/v1/services/${serviceId}/keys/${key.body.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe("revoked");

    const deletedHook = await client.delete<Deleted>(
      `/v1/services/${serviceId}/webhooks/${webhook.body.id}`,
    );
    expect(deletedHook.status).toBe(200);
    expect(deletedHook.body).toEqual({ id: webhook.body.id, deleted: true });

    const deleted = await client.delete<Deleted>(`/v1/services/${serviceId}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id: serviceId, deleted: true });
    expect((await client.get<ApiErrorBody>(`/v1/services/${serviceId}`)).status).toBe(404);
  });

  test("a webhook created without events gets the four seed events", async () => {
    const { client } = await signUp(t);
    const svc = await client.post<Service>("/v1/services", {
      slug: "seed-defaults",
      name: "Defaults",
    });
    const hook = await client.post<WebhookCreated>(`/v1/services/${svc.body.id}/webhooks`, {
      url: "https://hooks.example.com/x",
    });
    expect(hook.status).toBe(201);
    expect(hook.body.events).toEqual([
      "request.submitted",
      "request.approved",
      "request.rejected",
      "request.revoked",
    ]);
  });
});
