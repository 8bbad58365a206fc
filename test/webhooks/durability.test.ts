/**
 * Durable delivery (webhooks.md §4, quality.md §3): the outbox survives SIGKILL, expired leases are
 * taken over after a restart, two processes on one database never send the same attempt twice,
 * SIGTERM lets in-flight attempts finish and releases leases, and retention prunes what it should.
 *
 * Servers are real `sigilum serve` processes (or in-process servers) on a libSQL file in a temp
 * dir; the database is read back directly with @libsql/client; receivers are real, on loopback.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import type { Subprocess } from "bun";
import { pruneDeliveries } from "../../src/webhooks/retention.ts";
import { type Agent, newAgent, submitClaim } from "../helpers/agent.ts";
import { spawnServer as spawnServerProcess } from "../helpers/process.ts";
import { type Received, startReceiver } from "../helpers/receiver.ts";
import { ManualClock, startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { ClaimSubmitted, Delivery, DeliveryList, WebhookCreated } from "../helpers/types.ts";

// ---------------------------------------------------------------------------------------------
// Spawned server processes, temp dirs and direct database access, all cleaned up in afterAll.

interface Proc {
  url: string;
  child: Subprocess;
  /** Everything the process logged so far (JSON lines on stderr). */
  log: { text: string };
}

const children: Proc[] = [];
const dirs: string[] = [];
const clients: Client[] = [];
const cleanups: (() => unknown)[] = [];

afterAll(async () => {
  for (const p of children) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  await Promise.all(children.map((p) => p.child.exited));
  for (const fn of cleanups) await fn();
  for (const c of clients) c.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sigilum-durability-"));
  dirs.push(dir);
  return dir;
}

function openDb(dataDir: string): Client {
  const client = createClient({ url: `file:${join(dataDir, "sigilum.db")}` });
  clients.push(client);
  return client;
}

/** A real `sigilum serve` process on `dataDir` (the shared helper), killed in afterAll. */
async function spawnServer(dataDir: string, env: Record<string, string>): Promise<Proc> {
  const started = await spawnServerProcess({ dataDir, env });
  const proc: Proc = { url: started.url, child: started.child, log: started.log! };
  children.push(proc);
  return proc;
}

/** `ownerWithKey` and `submitClaim` only need the base URL and Origin of a server. */
function remote(p: Proc): TestServer {
  return { url: p.url, origin: p.url } as TestServer;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await Bun.sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function one(db: Client, sql: string, args: (string | number)[] = []): Promise<number> {
  const rs = await db.execute({ sql, args });
  return Number(rs.rows[0]![0]);
}

function agents(namespace: string, n: number): Promise<Agent[]> {
  return Promise.all(Array.from({ length: n }, () => newAgent(namespace)));
}

async function createWebhook(s: ServiceSetup, url: string) {
  const res = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, { url });
  if (res.status !== 201) throw new Error(`webhook: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; secret: string };
}

const LOCAL_HOOKS = {
  SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
  SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true",
};

// ---------------------------------------------------------------------------------------------

describe("SIGKILL while deliveries are in flight and claims are being submitted", () => {
  test("after a restart every committed event is delivered; only the in-flight ones twice", async () => {
    const dataDir = tempDir();
    // Short lease margin and sweep: the restarted server takes the killed one's leases over
    // within about 3 s instead of 7–12 s (timeout + 5 s margin, swept every 5 s by default).
    const env = {
      ...LOCAL_HOOKS,
      SIGILUM_WEBHOOK_TIMEOUT_MS: "2000",
      SIGILUM_WEBHOOK_LEASE_MARGIN: "500ms",
      SIGILUM_WEBHOOK_SWEEP_INTERVAL: "500ms",
    };
    // The receiver first HOLDS every request (never answers), then becomes healthy.
    let healthy = false;
    const held: (() => void)[] = [];
    const receiver = startReceiver(() =>
      healthy
        ? new Response("ok")
        : new Promise<Response>((resolve) => held.push(() => resolve(new Response("late")))),
    );
    cleanups.push(() => {
      for (const release of held) release();
      receiver.stop();
    });

    const p1 = await spawnServer(dataDir, env);
    const s = await ownerWithKey(remote(p1));
    await createWebhook(s, `${receiver.url}/hook`);

    // Wave 1: 20 claims, all acknowledged. At most 4 deliveries per webhook are in flight.
    const wave1 = await agents(s.namespace, 20);
    const wave2 = await agents(s.namespace, 40);
    const acked: string[] = [];
    const first = await Promise.all(
      wave1.map((a) => submitClaim<ClaimSubmitted>(remote(p1), a, s.apiKey, s.slug)),
    );
    for (const r of first) {
      expect(r.status).toBe(201);
      acked.push(r.body.claim_id);
    }
    await receiver.waitFor(4, 5_000);
    expect(held.length).toBe(4);

    // Wave 2: claims keep coming from 4 clients while the process is killed.
    let killed = false;
    let wave2Acked = 0;
    const submitters = [0, 1, 2, 3].map(async (lane) => {
      for (let i = lane; i < wave2.length && !killed; i += 4) {
        try {
          const r = await submitClaim<ClaimSubmitted>(remote(p1), wave2[i]!, s.apiKey, s.slug);
          if (r.status === 201) {
            acked.push(r.body.claim_id);
            wave2Acked++;
          }
        } catch {
          return; // the server is gone
        }
      }
    });
    const until = Date.now() + 1_000;
    while (wave2Acked < 3 && Date.now() < until) await Bun.sleep(5);
    p1.child.kill("SIGKILL");
    const killAt = Date.now();
    killed = true;
    await p1.child.exited;
    expect(p1.child.signalCode).toBe("SIGKILL");
    await Promise.all(submitters);
    const heldAtKill = receiver.received.slice();
    expect(heldAtKill.length).toBe(4);
    healthy = true;

    // The database as the killed process left it: nothing half-written.
    const db = openDb(dataDir);
    const claims = await db.execute("SELECT id FROM claims");
    const events = await db.execute("SELECT id, claim_id FROM events");
    const claimIds = new Set(claims.rows.map((r) => String(r.id)));
    const committed = new Set(events.rows.map((r) => String(r.id)));
    for (const id of acked) expect(claimIds.has(id)).toBe(true);
    expect(claimIds.size).toBeGreaterThanOrEqual(acked.length);
    expect(
      await one(
        db,
        "SELECT count(*) FROM claims c WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.claim_id = c.id)",
      ),
    ).toBe(0);
    expect(
      await one(
        db,
        "SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id)",
      ),
    ).toBe(0);
    expect(committed.size).toBe(claimIds.size); // one request.submitted per claim
    expect(await one(db, "SELECT count(*) FROM deliveries")).toBe(committed.size);
    // Exactly the held attempts were in flight (leased, nothing recorded); no attempt finished.
    expect(await one(db, "SELECT count(*) FROM deliveries WHERE lease_owner IS NOT NULL")).toBe(4);
    expect(await one(db, "SELECT count(*) FROM deliveries WHERE attempt_count > 0")).toBe(0);
    expect(await one(db, "SELECT count(*) FROM delivery_attempts")).toBe(0);

    // Restart on the same data: expired leases are taken over (timeout + margin, at a sweep).
    const p2 = await spawnServer(dataDir, env);
    await waitUntil(
      "every delivery to succeed after the restart",
      async () =>
        (await one(
          db,
          "SELECT count(*) FROM deliveries WHERE status != 'succeeded' OR lease_owner IS NOT NULL",
        )) === 0,
      25_000,
    );

    const byEvent = new Map<string, Received[]>();
    for (const r of receiver.received) {
      const id = r.headers["x-sigilum-event-id"]!;
      byEvent.set(id, [...(byEvent.get(id) ?? []), r]);
    }
    const inFlight = new Set(heldAtKill.map((r) => r.headers["x-sigilum-event-id"]!));
    expect([...byEvent.keys()].filter((id) => !committed.has(id))).toEqual([]);
    for (const id of committed) {
      const copies = byEvent.get(id) ?? [];
      expect({ id, received: copies.length >= 1 }).toEqual({ id, received: true });
      expect(copies.length).toBeLessThanOrEqual(2);
      if (copies.length === 2) expect(copies[0]!.at).toBeLessThan(killAt);
      // Never answered before the kill → delivered again; otherwise exactly once.
      expect({ id, copies: copies.length }).toEqual({ id, copies: inFlight.has(id) ? 2 : 1 });
      expect(copies.filter((c) => c.at >= killAt)).toHaveLength(1);
    }
    expect(await one(db, "SELECT count(*) FROM deliveries WHERE attempt_count != 1")).toBe(0);

    p2.child.kill("SIGTERM");
    expect(await p2.child.exited).toBe(0);
  }, 60_000);
});

describe("two server processes on one database file", () => {
  test("50 claims split across both: each (delivery, attempt) is sent exactly once", async () => {
    const env = { ...LOCAL_HOOKS, SIGILUM_WEBHOOK_RETRY_SCHEDULE: "1s" };
    const a = await startTestServer({ env });
    cleanups.push(() => a.close());
    const b = await spawnServer(a.dataDir, env);
    // A third of the deliveries fail their first attempt, so retries contend too.
    const failsFirst = (r: Received) => r.headers["x-sigilum-delivery-id"]!.charCodeAt(6) % 3 === 0;
    const receiver = startReceiver(async (r) => {
      await Bun.sleep(15);
      return failsFirst(r) && r.headers["x-sigilum-attempt"] === "1"
        ? new Response("try again", { status: 500 })
        : new Response("ok");
    });
    cleanups.push(() => receiver.stop());

    const s = await ownerWithKey(a);
    await createWebhook(s, `${receiver.url}/hook`);
    const all = await agents(s.namespace, 50);
    for (let i = 0; i < all.length; i += 10) {
      const batch = all.slice(i, i + 10);
      const results = await Promise.all(
        batch.map((agent, j) =>
          submitClaim<ClaimSubmitted>(j % 2 ? remote(b) : a, agent, s.apiKey, s.slug),
        ),
      );
      for (const r of results) expect(r.status).toBe(201);
    }

    const db = a.server.ctx.database.client;
    await waitUntil(
      "all 50 deliveries to succeed",
      async () => {
        await a.server.ctx.deliveryWorker.drain();
        return (await one(db, "SELECT count(*) FROM deliveries WHERE status = 'succeeded'")) === 50;
      },
      25_000,
    );
    expect(await one(db, "SELECT count(*) FROM deliveries")).toBe(50);
    expect(await one(db, "SELECT count(*) FROM deliveries WHERE lease_owner IS NOT NULL")).toBe(0);

    const seen = new Map<string, number>();
    for (const r of receiver.received) {
      const key = `${r.headers["x-sigilum-delivery-id"]}#${r.headers["x-sigilum-attempt"]}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect([...seen].filter(([, n]) => n > 1)).toEqual([]);

    // Received attempts, recorded attempts and the counter agree for every delivery: 1..n, once each.
    const rows = await db.execute("SELECT id, attempt_count FROM deliveries");
    const recorded = await db.execute("SELECT delivery_id, attempt FROM delivery_attempts");
    let retried = 0;
    for (const row of rows.rows) {
      const id = String(row.id);
      const n = Number(row.attempt_count);
      const got = receiver.received.filter((r) => r.headers["x-sigilum-delivery-id"] === id);
      const expected = failsFirst(got[0]!) ? [1, 2] : [1];
      if (expected.length === 2) retried++;
      expect({ id, n }).toEqual({ id, n: expected.length });
      expect(got.map((r) => Number(r.headers["x-sigilum-attempt"])).sort()).toEqual(expected);
      expect(
        recorded.rows
          .filter((r) => String(r.delivery_id) === id)
          .map((r) => Number(r.attempt))
          .sort(),
      ).toEqual(expected);
    }
    expect(retried).toBeGreaterThan(0);
    expect(receiver.received).toHaveLength(50 + retried);

    // Both processes really delivered (each logs one line per attempt).
    const attemptsBy = (text: string) =>
      text.split("\n").filter((l) => l.includes('"msg":"webhook attempt"')).length;
    const byA = attemptsBy(a.logs.join("\n"));
    const byB = attemptsBy(b.log.text);
    expect(byA + byB).toBe(receiver.received.length);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);

    b.child.kill("SIGTERM");
    expect(await b.child.exited).toBe(0);
  }, 40_000);
});

describe("graceful shutdown", () => {
  test("SIGTERM: exit 0 after the in-flight attempts finish and are recorded; no lease left", async () => {
    const dataDir = tempDir();
    const receiver = startReceiver(async () => {
      await Bun.sleep(1_000);
      return new Response("slow but fine");
    });
    cleanups.push(() => receiver.stop());
    const p = await spawnServer(dataDir, LOCAL_HOOKS);
    const s = await ownerWithKey(remote(p));
    await createWebhook(s, `${receiver.url}/hook`);
    const six = await agents(s.namespace, 6);
    const results = await Promise.all(
      six.map((a) => submitClaim<ClaimSubmitted>(remote(p), a, s.apiKey, s.slug)),
    );
    for (const r of results) expect(r.status).toBe(201);
    await receiver.waitFor(4, 5_000);
    expect(receiver.received.length).toBeGreaterThanOrEqual(4);

    p.child.kill("SIGTERM");
    const termAt = Date.now();
    const code = await Promise.race([p.child.exited, Bun.sleep(15_000).then(() => "hung")]);
    expect(code).toBe(0);
    const exitedAt = Date.now();
    const started = receiver.received.length;
    // It waited for the slow receiver (≥ ~1 s after the last attempt started).
    expect(exitedAt).toBeGreaterThanOrEqual(receiver.received.at(-1)!.at + 900);
    expect(exitedAt - termAt).toBeLessThan(10_000);

    const db = openDb(dataDir);
    expect(await one(db, "SELECT count(*) FROM deliveries")).toBe(6);
    // Every started attempt completed and was recorded as a success…
    expect(await one(db, "SELECT count(*) FROM deliveries WHERE status = 'succeeded'")).toBe(
      started,
    );
    expect(
      await one(
        db,
        "SELECT count(*) FROM delivery_attempts WHERE status_code = 200 AND error IS NULL",
      ),
    ).toBe(started);
    expect(await one(db, "SELECT count(*) FROM delivery_attempts")).toBe(started);
    // …nothing new was taken after SIGTERM (the rest is untouched and pending)…
    expect(started).toBeLessThan(6);
    expect(
      await one(
        db,
        "SELECT count(*) FROM deliveries WHERE status = 'pending' AND attempt_count = 0",
      ),
    ).toBe(6 - started);
    // …and no lease remains.
    expect(
      await one(
        db,
        "SELECT count(*) FROM deliveries WHERE lease_owner IS NOT NULL OR lease_expires_at IS NOT NULL",
      ),
    ).toBe(0);
    await Bun.sleep(200);
    expect(receiver.received).toHaveLength(started);
  });
});

describe("retention", () => {
  test("SIGILUM_WEBHOOK_RETENTION=1h: succeeded deliveries and old attempts go, failed ones stay", async () => {
    const clock = new ManualClock(Date.now());
    const t = await startTestServer({
      clock,
      env: {
        ...LOCAL_HOOKS,
        SIGILUM_WEBHOOK_RETENTION: "1h",
        SIGILUM_WEBHOOK_RETRY_SCHEDULE: "1s",
      },
    });
    cleanups.push(() => t.close());
    const ok = startReceiver();
    const bad = startReceiver(() => new Response("no", { status: 500 }));
    cleanups.push(() => ok.stop());
    cleanups.push(() => bad.stop());
    const s = await ownerWithKey(t);
    const good = await createWebhook(s, `${ok.url}/hook`);
    const failing = await createWebhook(s, `${bad.url}/hook`);
    const db = t.server.ctx.database.client;
    const submitNow = async () => {
      const agent = await newAgent(s.namespace, clock.now());
      const r = await submitClaim<ClaimSubmitted>(
        t,
        agent,
        s.apiKey,
        s.slug,
        {},
        {
          created: Math.floor(clock.now() / 1000),
        },
      );
      expect(r.status).toBe(201);
    };
    const ids = async (webhookId: string, status: string) =>
      (
        await db.execute({
          sql: "SELECT id FROM deliveries WHERE webhook_id = ? AND status = ? ORDER BY id",
          args: [webhookId, status],
        })
      ).rows.map((r) => String(r.id));
    const attemptsOf = async (deliveryIds: string[]) =>
      one(
        db,
        `SELECT count(*) FROM delivery_attempts WHERE delivery_id IN (${deliveryIds.map(() => "?").join(",")})`,
        deliveryIds,
      );

    for (let i = 0; i < 3; i++) await submitNow();
    await t.server.ctx.deliveryWorker.drain();
    clock.advance(2_000); // past the single 1 s (±20 %) retry
    await t.server.ctx.deliveryWorker.drain();
    const oldSucceeded = await ids(good.id, "succeeded");
    const oldFailed = await ids(failing.id, "failed");
    expect(oldSucceeded).toHaveLength(3);
    expect(oldFailed).toHaveLength(3);
    expect(await attemptsOf(oldSucceeded)).toBe(3);
    expect(await attemptsOf(oldFailed)).toBe(6);

    clock.advance(2 * 3_600_000);
    await submitNow(); // fresh: inside the retention window
    await t.server.ctx.deliveryWorker.drain();
    const freshSucceeded = (await ids(good.id, "succeeded")).filter(
      (id) => !oldSucceeded.includes(id),
    );
    const freshPending = await ids(failing.id, "pending");
    expect(freshSucceeded).toHaveLength(1);
    expect(freshPending).toHaveLength(1);

    const removed = await pruneDeliveries(t.server.ctx);
    expect(removed).toBeGreaterThanOrEqual(3 + 3 + 6);

    // Old succeeded deliveries and their attempts are gone.
    expect(await ids(good.id, "succeeded")).toEqual(freshSucceeded);
    expect(await attemptsOf(oldSucceeded)).toBe(0);
    // Failed deliveries stay as dead letters (their old attempts are pruned: "all attempts").
    expect(await ids(failing.id, "failed")).toEqual(oldFailed);
    expect(await attemptsOf(oldFailed)).toBe(0);
    // Their events stay too, so they can still be redelivered.
    expect(
      await one(
        db,
        "SELECT count(*) FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id)",
      ),
    ).toBe(0);
    const redeliver = await s.client.post<Delivery>(
      `/v1/services/${s.serviceId}/webhooks/${failing.id}/deliveries/${oldFailed[0]}/redeliver`,
    );
    expect(redeliver.status).toBe(202);
    // Everything younger than the retention is untouched.
    expect(await attemptsOf(freshSucceeded)).toBe(1);
    expect(await attemptsOf(freshPending)).toBe(1);
    const listed = await s.client.get<DeliveryList>(
      `/v1/services/${s.serviceId}/webhooks/${good.id}/deliveries`,
    );
    expect(listed.body.deliveries.map((d: { id: string }) => d.id)).toEqual(freshSucceeded);
  });
});
