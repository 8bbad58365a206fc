import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "../../src/ids.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { WebhookCreated } from "../helpers/types.ts";

// One webhook's backlog must not hold back another webhook's deliveries: the per-webhook cap
// (4 in flight) leaves the rest of the process's capacity for the others.
describe("delivery fairness across webhooks", () => {
  const slow = startReceiver(async () => {
    await Bun.sleep(200);
    return new Response("ok");
  });
  const fast = startReceiver();
  let t: TestServer;
  let s: ServiceSetup;
  beforeAll(async () => {
    t = await startTestServer({
      env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" },
    });
    s = await ownerWithKey(t);
  });
  afterAll(async () => {
    await t.close();
    slow.stop();
    fast.stop();
  });

  async function hook(url: string): Promise<string> {
    const res = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url,
    });
    return res.body.id;
  }

  /** Queues `n` due deliveries for a webhook, oldest first, straight into the outbox. */
  async function queue(webhookId: string, n: number, at: number) {
    const stmts = [];
    for (let i = 0; i < n; i++) {
      const eventId = newId.event();
      stmts.push({
        sql: "INSERT INTO events (id, service_id, claim_id, type, payload, created_at) VALUES (?, ?, NULL, 'request.approved', '{}', ?)",
        args: [eventId, s.serviceId, at],
      });
      stmts.push({
        sql: "INSERT INTO deliveries (id, event_id, webhook_id, event_type, status, attempt_count, next_attempt_at, created_at) VALUES (?, ?, ?, 'request.approved', 'pending', 0, ?, ?)",
        args: [newId.delivery(), eventId, webhookId, at + i, at],
      });
    }
    await t.server.ctx.database.client.batch(stmts, "write");
  }

  test("a newer delivery to another webhook goes out while an older backlog is still draining", async () => {
    const backlogged = await hook(`${slow.url}/backlog`);
    const other = await hook(`${fast.url}/other`);
    const base = Date.now() - 60_000;
    await queue(backlogged, 300, base);
    await queue(other, 1, base + 1_000);
    t.server.ctx.deliveryWorker.wake();
    const [got] = await fast.waitFor(1, 3_000);
    expect(got).toBeDefined();
    // The backlog (300 × 200 ms at 4 in flight ≈ 15 s) is far from done when the other arrives.
    expect(slow.received.length).toBeLessThan(40);
  });
});
