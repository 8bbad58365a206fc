import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { ManualClock, startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  Claim,
  ClaimSubmitted,
  DeliveryList,
  Requeued,
  Webhook,
  WebhookCreated,
  WebhookTestResult,
} from "../helpers/types.ts";

// Decisions the spec left open (see README "How it behaves"): disabled webhooks get no test
// events; recover also brings back what a disable cancelled; each claim decision has its own reason.

const clock = new ManualClock(Date.now());
const receiver = startReceiver();
let t: TestServer;
let s: ServiceSetup;
let hookPath = "";

beforeAll(async () => {
  t = await startTestServer({
    clock,
    env: {
      SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
      SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true",
      SIGILUM_WEBHOOK_TIMEOUT_MS: "500",
    },
  });
  s = await ownerWithKey(t);
  const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
    url: `${receiver.url}/hook`,
  });
  hookPath = `/v1/services/${s.serviceId}/webhooks/${hook.body.id}`;
});
afterAll(async () => {
  await t.close();
  receiver.stop();
});

const created = () => ({ created: Math.floor(clock.now() / 1000) });

describe("decisions around disabled webhooks and reasons", () => {
  test("a disabled webhook gets no test event (409); enabled again it does", async () => {
    expect((await s.client.patch<Webhook>(hookPath, { enabled: false })).status).toBe(200);
    const before = receiver.received.length;
    const refused = await s.client.post<ApiErrorBody>(`${hookPath}/test`);
    expect(refused).toMatchObject({ status: 409, body: { code: "CONFLICT" } });
    expect(receiver.received.length).toBe(before);
    expect((await s.client.patch<Webhook>(hookPath, { enabled: true })).status).toBe(200);
    const sent = await s.client.post<WebhookTestResult>(`${hookPath}/test`);
    expect(sent.body.success).toBe(true);
  });

  test("recover re-queues what a disable cancelled, once the webhook is enabled again", async () => {
    receiver.respondWith(() => new Response("down", { status: 503 }));
    const agent = await newAgent(s.namespace, clock.now());
    const claim = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug, {}, created());
    await t.server.ctx.deliveryWorker.drain();
    expect((await s.client.patch<Webhook>(hookPath, { enabled: false })).status).toBe(200);
    const cancelled = await s.client.get<DeliveryList>(`${hookPath}/deliveries?status=cancelled`);
    expect(cancelled.body.deliveries.length).toBeGreaterThanOrEqual(1);
    receiver.respondWith(() => new Response("ok"));
    expect((await s.client.patch<Webhook>(hookPath, { enabled: true })).status).toBe(200);
    const since = new Date(clock.now() - 60_000).toISOString();
    // Counted before the recover: its wake-up may deliver before the 202 reaches this client.
    const before = receiver.received.length;
    const recovered = await s.client.post<Requeued>(`${hookPath}/recover`, { since });
    expect(recovered.status).toBe(202);
    expect(recovered.body.requeued).toBeGreaterThanOrEqual(1);
    await t.server.ctx.deliveryWorker.drain();
    const redelivered = receiver.received
      .slice(before)
      .map((r) => JSON.parse(r.body).data.claim_id);
    expect(redelivered).toContain(claim.body.claim_id);
  });

  test("recover with since in the future names `since`", async () => {
    const res = await s.client.post<ApiErrorBody>(`${hookPath}/recover`, {
      since: new Date(clock.now() + 3_600_000).toISOString(),
    });
    expect(res.status).toBe(400);
    expect(res.body.details).toEqual([{ field: "since", message: "must not be in the future" }]);
  });

  test("a revoke without a reason does not repeat the approval's reason", async () => {
    const agent = await newAgent(s.namespace, clock.now());
    const claim = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug, {}, created());
    await s.client.post<Claim>(`/v1/claims/${claim.body.claim_id}/approve`, {
      reason: "trusted vendor",
    });
    const revoked = await s.client.post<Claim>(`/v1/claims/${claim.body.claim_id}/revoke`);
    expect(revoked.body.reason).toBeNull();
    const rows = await t.server.ctx.database.client.execute({
      sql: "SELECT payload FROM events WHERE claim_id = ? AND type = 'request.revoked'",
      args: [claim.body.claim_id],
    });
    expect(JSON.parse(String(rows.rows[0]?.payload)).data.reason).toBeUndefined();
  });
});
