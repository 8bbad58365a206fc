import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newId } from "../../src/ids.ts";
import { verifyWebhookSignature } from "../../src/index.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { WebhookCreated } from "../helpers/types.ts";

// A delivery round leases the due work of every webhook at once, each up to its share and within
// the process's capacity, and hands each attempt its payload from that same statement.
describe("one delivery round across several webhooks", () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  // Holds every request until released, so what one round started can be counted.
  const receiver = startReceiver(async () => {
    await gate;
    return new Response("ok");
  });
  let t: TestServer;
  let s: ServiceSetup;
  const statements: string[] = [];
  beforeAll(async () => {
    t = await startTestServer({
      env: {
        SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
        SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true",
        SIGILUM_WEBHOOK_CONCURRENCY: "8",
        SIGILUM_WEBHOOK_PER_WEBHOOK_CONCURRENCY: "4",
      },
    });
    s = await ownerWithKey(t);
    // Records the SQL the server runs (the real driver still runs it).
    const client = t.server.ctx.database.client;
    const execute = client.execute.bind(client);
    const batch = client.batch.bind(client);
    client.execute = ((stmt: string | { sql: string }, ...rest: unknown[]) => {
      statements.push(typeof stmt === "string" ? stmt : stmt.sql);
      return (execute as (...a: unknown[]) => unknown)(stmt, ...rest);
    }) as typeof client.execute;
    client.batch = ((stmts: (string | { sql: string })[], ...rest: unknown[]) => {
      for (const st of stmts) statements.push(typeof st === "string" ? st : st.sql);
      return (batch as (...a: unknown[]) => unknown)(stmts, ...rest);
    }) as typeof client.batch;
  });
  afterAll(async () => {
    release();
    await t.close();
    receiver.stop();
  });

  async function hook(path: string) {
    const res = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `${receiver.url}/${path}`,
    });
    return { id: res.body.id, secret: res.body.secret };
  }

  /** Queues `n` due deliveries for a webhook straight into the outbox; returns their payloads. */
  async function queue(webhookId: string, n: number) {
    const stmts = [];
    const payloads: string[] = [];
    const at = Date.now() - 60_000;
    for (let i = 0; i < n; i++) {
      const eventId = newId.event();
      const payload = JSON.stringify({ id: eventId, event: "request.approved", n: i, webhookId });
      payloads.push(payload);
      stmts.push({
        sql: "INSERT INTO events (id, service_id, claim_id, type, payload, created_at) VALUES (?, ?, NULL, 'request.approved', ?, ?)",
        args: [eventId, s.serviceId, payload, at],
      });
      stmts.push({
        sql: "INSERT INTO deliveries (id, event_id, webhook_id, event_type, status, attempt_count, next_attempt_at, created_at) VALUES (?, ?, ?, 'request.approved', 'pending', 0, ?, ?)",
        args: [newId.delivery(), eventId, webhookId, at + i, at],
      });
    }
    await t.server.ctx.database.client.batch(stmts, "write");
    return payloads;
  }

  test("starts each webhook's share (4 of 10, 1 of 1, 2 of 2) in one lease, payloads included", async () => {
    const a = await hook("a");
    const b = await hook("b");
    const c = await hook("c");
    const sent = [...(await queue(a.id, 10)), ...(await queue(b.id, 1)), ...(await queue(c.id, 2))];
    statements.length = 0;
    t.server.ctx.deliveryWorker.wake();
    await receiver.waitFor(7, 3_000);
    await Bun.sleep(200);
    const to = (id: string) =>
      receiver.received.filter(
        (r) => (JSON.parse(r.body) as { webhookId: string }).webhookId === id,
      ).length;
    // 4 + 1 + 2 = 7 of the 8 in flight: a webhook with little due work reserves no more than it has.
    expect(receiver.received).toHaveLength(7);
    expect([to(a.id), to(b.id), to(c.id)]).toEqual([4, 1, 2]);
    expect(t.server.ctx.deliveryWorker.inFlightCount).toBe(7);
    // All seven were leased by one statement, which also read their payloads (no read per delivery).
    expect(statements.filter((q) => /lease_owner = \?, lease_expires_at/.test(q))).toHaveLength(1);
    expect(statements.filter((q) => /(from|join) "?events\b/i.test(q))).toHaveLength(1);

    release();
    await t.server.ctx.deliveryWorker.drain();
    expect(receiver.received).toHaveLength(13);
    const secretOf = new Map([a, b, c].map((h) => [h.id, h.secret]));
    for (const r of receiver.received) {
      const webhookId = (JSON.parse(r.body) as { webhookId: string }).webhookId;
      const check = verifyWebhookSignature({
        secret: secretOf.get(webhookId)!,
        header: r.headers["x-sigilum-signature"]!,
        body: r.body,
      });
      expect(check.ok).toBe(true);
    }
    expect(receiver.received.map((r) => r.body).sort()).toEqual([...sent].sort());
    const rows = await t.server.ctx.database.client.execute(
      "SELECT count(*) AS n FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id WHERE d.status = 'succeeded' AND d.lease_owner IS NULL",
    );
    expect(Number(rows.rows[0]!.n)).toBe(13);
  });
});
