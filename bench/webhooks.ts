// Webhook fan-out to a local receiver (quality.md §5): deliveries/s of the server's delivery worker
// against a bare loop of fetch POSTs (same concurrency, same bodies) to the same receiver, in the
// same run; target ≥ 0.5 of the baseline, every delivery signed and recorded.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { newId } from "../src/ids.ts";
import { mainThreadCpuMs, processCpuMs, runLoadProcess, spawnServer, table } from "./lib.ts";
import type { LoadRequest } from "./load.ts";
import { ownerCall, ownerWithKey, startSigilum } from "./sigilum.ts";

const WEBHOOKS = 8; // × 4 in flight per webhook = the worker's default 32 per process
// 2 500 × 8 = 20 000 deliveries: at thousands per second the run must be long enough that the
// server's start (included in the time) does not dominate. BENCH_WEBHOOK_EVENTS overrides it.
const EVENTS_PER_WEBHOOK = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 2500);
const CONCURRENCY = 32;
const ENV = { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" };

function payload(i: number) {
  const id = `evt_bench${String(i).padStart(19, "0")}`;
  return JSON.stringify({
    id,
    event: "request.approved",
    timestamp: new Date().toISOString(),
    data: {
      claim_id: `claim_bench${String(i).padStart(18, "0")}`,
      namespace: "bench-ns",
      service: "bench-svc",
      agent_key: "did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd",
      public_key: "ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
      status: "approved",
    },
  });
}

/** Queues one event per (webhook, i) straight into the outbox tables while the server is down. */
async function queueDeliveries(dbFile: string, serviceId: string, webhookIds: string[]) {
  const db = createClient({ url: `file:${dbFile}` });
  const now = Date.now();
  const stmts = [];
  let i = 0;
  for (const webhookId of webhookIds) {
    for (let n = 0; n < EVENTS_PER_WEBHOOK; n++, i++) {
      const body = payload(i);
      const eventId = JSON.parse(body).id as string;
      stmts.push({
        sql: "INSERT INTO events (id, service_id, claim_id, type, payload, created_at) VALUES (?, ?, NULL, 'request.approved', ?, ?)",
        args: [eventId, serviceId, body, now],
      });
      stmts.push({
        sql: "INSERT INTO deliveries (id, event_id, webhook_id, event_type, status, attempt_count, next_attempt_at, created_at) VALUES (?, ?, ?, 'request.approved', 'pending', 0, 0, ?)",
        args: [newId.delivery(), eventId, webhookId, now],
      });
    }
  }
  await db.batch(stmts, "write");
  db.close();
  return i;
}

async function recorded(dbFile: string) {
  const db = createClient({ url: `file:${dbFile}` });
  const rs = await db.execute(
    "SELECT (SELECT count(*) FROM deliveries WHERE status = 'succeeded') AS ok, (SELECT count(*) FROM delivery_attempts) AS attempts",
  );
  db.close();
  return { succeeded: Number(rs.rows[0]?.ok), attempts: Number(rs.rows[0]?.attempts) };
}

async function receivedCount(url: string): Promise<number> {
  return Number(await (await fetch(`${url}/count`)).text());
}

/** Starts the server on the queued outbox and times it until the receiver has every delivery. */
async function timeWorker(dataDir: string, log: string, receiverUrl: string, total: number) {
  const before = await receivedCount(receiverUrl);
  const started = performance.now();
  const server = await startSigilum(dataDir, log, ENV);
  const deadline = started + 120_000;
  while ((await receivedCount(receiverUrl)) - before < total && performance.now() < deadline)
    await Bun.sleep(5);
  const seconds = (performance.now() - started) / 1000;
  // CPU of the whole server process (start-up included), robust to other load on the machine.
  const cpuMs = processCpuMs(server.proc.pid);
  const mainMs = mainThreadCpuMs(server.proc.pid);
  await server.stop();
  return { seconds, cpuMs, mainMs, received: (await receivedCount(receiverUrl)) - before };
}

export async function webhooksBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "sigilum-bench-webhooks-"));
  const receiver = await spawnServer(
    [process.execPath, join(import.meta.dir, "receiver.ts"), "{port}"],
    () => ({}),
    "/count",
  );
  try {
    const dataDir = join(work, "data");
    const log = join(work, "server.log");
    const setup = await startSigilum(dataDir, log, ENV);
    const owner = await ownerWithKey(setup.url, "bench-webhooks", "bench-webhooks-svc");
    const services = (await ownerCall(owner, "GET", "/v1/services")) as {
      services: { id: string }[];
    };
    const serviceId = services.services[0]!.id;
    const webhookIds: string[] = [];
    for (let w = 0; w < WEBHOOKS; w++) {
      const hook = await ownerCall(owner, "POST", `/v1/services/${serviceId}/webhooks`, {
        url: `${receiver.url}/hook/${w}`,
      });
      webhookIds.push(hook.id as string);
    }
    await setup.stop();
    const total = await queueDeliveries(join(dataDir, "sigilum.db"), serviceId, webhookIds);
    const ours = await timeWorker(dataDir, log, receiver.url, total);
    const check = await recorded(join(dataDir, "sigilum.db"));

    const requests: LoadRequest[] = Array.from({ length: total }, (_, i) => ({
      headers: { "content-type": "application/json" },
      body: payload(i),
    }));
    const baseline = await runLoadProcess(
      {
        url: `${receiver.url}/hook`,
        method: "POST",
        concurrency: CONCURRENCY,
        durationMs: 60_000,
        warmupMs: 0,
        requests,
        unique: true,
      },
      join(work, "load.json"),
      receiver.proc.pid,
    );
    const oursRate = ours.received / ours.seconds;
    const ratio = oursRate / baseline.rps;
    return table([
      [
        "benchmark",
        "deliveries",
        "deliveries/s",
        "baseline (bare fetch loop) req/s",
        "ratio",
        "target",
        "met",
        "succeeded / attempt rows",
        "server CPU µs/delivery, all threads / JS thread (start-up included)",
        "bare loop's CPU µs/request",
      ],
      [
        `webhook fan-out, ${WEBHOOKS} webhooks × ${EVENTS_PER_WEBHOOK} events, ${CONCURRENCY} in flight`,
        ours.received,
        Math.round(oursRate),
        Math.round(baseline.rps),
        ratio.toFixed(2),
        "≥ 0.5",
        ratio >= 0.5 && check.succeeded === total ? "yes" : "NO",
        `${check.succeeded} / ${check.attempts}`,
        `${Math.round((ours.cpuMs * 1000) / Math.max(1, ours.received))} / ${Math.round((ours.mainMs * 1000) / Math.max(1, ours.received))}`,
        Math.round((baseline.cpu.loadgen / baseline.rps) * 1e6),
      ],
    ]);
  } finally {
    await receiver.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
