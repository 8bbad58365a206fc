/**
 * Recover is idempotent (http-api.md §4): an event that already has a pending or succeeded
 * delivery to the webhook is not queued again, however often (or however concurrently) recover
 * is called. Real server, ManualClock; `drain()` runs delivery rounds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { ManualClock, startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { ClaimSubmitted, DeliveryList, Requeued, WebhookCreated } from "../helpers/types.ts";

const clock = new ManualClock();
let t: TestServer;
let s: ServiceSetup;
let healthy = false;
const receiver = startReceiver(() => new Response("", { status: healthy ? 200 : 500 }));

beforeAll(async () => {
  t = await startTestServer({
    clock,
    env: {
      SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
      SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true",
      SIGILUM_WEBHOOK_RETRY_SCHEDULE: "1s",
    },
  });
  s = await ownerWithKey(t);
});

afterAll(async () => {
  await t?.close();
  receiver.stop();
});

const drain = () => t.server.ctx.deliveryWorker.drain();

async function deliveries(base: string, status: string) {
  const res = await s.client.get<DeliveryList>(`${base}/deliveries?status=${status}`);
  expect(res.status).toBe(200);
  return res.body.deliveries as { id: string; event_id: string }[];
}

describe("POST …/webhooks/{id}/recover", () => {
  test("three calls queue a failed event once; after it succeeded, none", async () => {
    const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `${receiver.url}/hook`,
      events: ["request.submitted"],
    });
    const base = `/v1/services/${s.serviceId}/webhooks/${hook.body.id}`;
    const since = new Date(clock.now() - 60_000).toISOString();
    const agent = await newAgent(s.namespace, clock.now());
    const submitted = await submitClaim<ClaimSubmitted>(
      t,
      agent,
      s.apiKey,
      s.slug,
      {},
      {
        created: Math.floor(clock.now() / 1000),
      },
    );
    expect(submitted.status).toBe(201);
    await drain();
    clock.advance(1_500);
    await drain();
    const [dead] = await deliveries(base, "failed");
    expect(dead).toBeDefined();

    const calls = [];
    for (let i = 0; i < 3; i++)
      calls.push((await s.client.post<Requeued>(`${base}/recover`, { since })).body);
    expect(calls).toEqual([{ requeued: 1 }, { requeued: 0 }, { requeued: 0 }]);
    const concurrent = await Promise.all(
      [0, 1, 2].map(() => s.client.post<Requeued>(`${base}/recover`, { since })),
    );
    expect(concurrent.map((r) => r.body.requeued)).toEqual([0, 0, 0]);
    expect(await deliveries(base, "pending")).toHaveLength(1);

    healthy = true;
    clock.advance(1_500); // past the retry, should the requeued one have been tried already
    await drain();
    const succeeded = await deliveries(base, "succeeded");
    expect(succeeded.map((d) => d.event_id)).toEqual([dead!.event_id]);
    expect((await s.client.post<Requeued>(`${base}/recover`, { since })).body).toEqual({
      requeued: 0,
    });
    expect(await deliveries(base, "pending")).toHaveLength(0);
    // The dead letter and the one delivery recover queued for its event; nothing else.
    const all = (await s.client.get<DeliveryList>(`${base}/deliveries`)).body.deliveries as {
      event_id: string;
    }[];
    expect(all.filter((d) => d.event_id === dead!.event_id)).toHaveLength(2);
  });

  test("concurrent calls on a fresh dead letter queue it exactly once", async () => {
    healthy = false;
    const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `${receiver.url}/concurrent`,
      events: ["request.submitted"],
    });
    const base = `/v1/services/${s.serviceId}/webhooks/${hook.body.id}`;
    const since = new Date(clock.now() - 60_000).toISOString();
    const agent = await newAgent(s.namespace, clock.now());
    await submitClaim<ClaimSubmitted>(
      t,
      agent,
      s.apiKey,
      s.slug,
      {},
      { created: Math.floor(clock.now() / 1000) },
    );
    await drain();
    clock.advance(1_500);
    await drain();
    expect(await deliveries(base, "failed")).toHaveLength(1);
    const results = await Promise.all(
      [0, 1, 2, 3].map(() => s.client.post<Requeued>(`${base}/recover`, { since })),
    );
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    expect(results.reduce((n, r) => n + r.body.requeued, 0)).toBe(1);
    expect(await deliveries(base, "pending")).toHaveLength(1);
  });
});
