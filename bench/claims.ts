// POST /v1/claims, signed, each request a NEW claim (distinct agent key and nonce), 64 connections
// from a separate load-generator process until the pre-signed requests run out or the duration
// ends. Baseline in the same run (quality.md §5): a bare Bun.serve doing one Ed25519 verify and
// one durable insert into a libSQL embedded file per request (bench/baseline.ts claims), sent
// the same requests by the same load generator. Target: ≥ 0.5 of the baseline's claims/s,
// ≥ 2 500 claims/s, p99 ≤ 50 ms. Afterwards each side's 201s must equal its rows.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { generateIdentity } from "../src/signing/index.ts";
import { type LoadRun, runLoadProcess, type Spawned, spawnServer, table, tailOf } from "./lib.ts";
import type { LoadRequest } from "./load.ts";
import {
  inBatches,
  type Owner,
  ownerCall,
  ownerWithKey,
  signedClaim,
  startSigilum,
} from "./sigilum.ts";

const CONNECTIONS = 64;
const WARMUP_MS = 1000;
const DURATION_MS = 9000;
/** 10 s at 2 500 claims/s (the target): the run ends at the duration unless the server is faster. */
const CLAIMS = 25_000;
const TARGET_CLAIMS_PER_S = 2500;
const TARGET_RATIO = 0.5;
const TARGET_P99_MS = 50;

/** One new agent identity and one signed submission per request (shared headers kept apart). */
export async function presignedClaims(owner: Owner, count: number): Promise<LoadRequest[]> {
  const now = Date.now();
  return inBatches(count, 1000, async (i) => {
    const agent = await generateIdentity(owner.namespace, now);
    const { headers, body } = await signedClaim(owner, agent, `bench-claim-${i}-${now}`);
    const { authorization: _a, "content-type": _c, ...own } = headers;
    return { headers: own, body };
  });
}

/** The claim rows of the namespace, as the owner's list reports them. */
async function claimRows(owner: Owner): Promise<number> {
  const page = await ownerCall(owner, "GET", `/v1/namespaces/${owner.namespace}/claims?limit=1`);
  return (page.pagination as { total: number }).total;
}

interface Side {
  run: LoadRun;
  created: number;
  rows: number;
}

const cpuOf = (r: LoadRun) => `${r.cpu.server} / ${r.cpu.loadgen} / ${r.cpu.other}`;

function sideRow(name: string, { run, created, rows }: Side, ratio: string, met: string) {
  return [
    name,
    run.rps,
    run.p50Ms.toFixed(2),
    run.p99Ms.toFixed(2),
    run.maxMs.toFixed(2),
    run.requests,
    run.errors,
    `${created} / ${rows}`,
    `${run.cpu.serverUsPerRequest} / ${run.cpu.mainThreadUsPerRequest}`,
    cpuOf(run),
    ratio,
    met,
  ];
}

/** Ours and the bare baseline side by side; the target applies to ours. */
function claimsTable(ours: Side, bare: Side): string {
  const ratio = ours.run.rps / bare.run.rps;
  const met =
    ratio >= TARGET_RATIO &&
    ours.run.rps >= TARGET_CLAIMS_PER_S &&
    ours.run.p99Ms <= TARGET_P99_MS &&
    ours.run.errors === 0 &&
    ours.created === ours.rows;
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");
  return `${table([
    [
      "benchmark (64 conns)",
      "claims/s",
      "p50 ms",
      "p99 ms",
      "max ms",
      "measured requests",
      "errors",
      "201s (all phases) / rows",
      "server CPU µs/claim: all threads / JS thread",
      "CPU cores server / loadgen / other",
      "ratio to bare",
      `target: ≥ ${TARGET_RATIO} of bare, ≥ ${TARGET_CLAIMS_PER_S} claims/s, p99 ≤ ${TARGET_P99_MS} ms`,
    ],
    sideRow("POST /v1/claims, new claims", ours, ratio.toFixed(2), met ? "met" : "NOT met"),
    sideRow("bare: 1 Ed25519 verify + 1 durable insert", bare, "1.00", "(baseline)"),
  ])}\n\nload average after the run (1 / 5 / 15 min): ${load}`;
}

/** Rows in the bare baseline's table, read after its server stopped. */
async function bareRows(dbPath: string): Promise<number> {
  const client = createClient({ url: `file:${dbPath}` });
  try {
    const rs = await client.execute("SELECT count(*) AS n FROM claims");
    return Number(rs.rows[0]?.n ?? 0);
  } finally {
    client.close();
  }
}

/** The bare baseline (own process, fresh database file), loaded with the same requests. */
async function bareRun(work: string, requests: LoadRequest[], headers: Record<string, string>) {
  const script = join(import.meta.dir, "baseline.ts");
  const dbPath = join(work, "bare.db");
  const server = await spawnServer(
    [process.execPath, script, "claims", "{port}", dbPath],
    () => ({}),
    "/",
  );
  let run: LoadRun;
  try {
    run = await runLoadProcess(
      // Cycled, not unique: the bare server ignores what it is sent, so it never runs out.
      loadConfig(`${server.url}/v1/claims`, requests, headers, false),
      join(work, "load.json"),
      server.proc.pid,
    );
  } finally {
    await server.stop();
  }
  return { run, created: run.statuses["201"] ?? 0, rows: await bareRows(dbPath) };
}

function loadConfig(
  url: string,
  requests: LoadRequest[],
  headers: Record<string, string>,
  unique: boolean,
) {
  const config = { concurrency: CONNECTIONS, warmupMs: WARMUP_MS, durationMs: DURATION_MS };
  return { url, method: "POST", ...config, headers, requests, unique };
}

export async function claimsBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "sigilum-bench-claims-"));
  let server: Spawned | undefined;
  try {
    server = await startSigilum(join(work, "data"), join(work, "server.log"));
    const owner = await ownerWithKey(server.url, "bench-claims", "bench-svc");
    const requests = await presignedClaims(owner, CLAIMS);
    const headers = { authorization: `Bearer ${owner.apiKey}`, "content-type": "application/json" };
    const bare = await bareRun(work, requests, headers);
    const run = await runLoadProcess(
      loadConfig(`${owner.url}/v1/claims`, requests, headers, true),
      join(work, "load.json"),
      server.proc.pid,
    );
    const others = Object.entries(run.statuses).filter(([s]) => s !== "201");
    if (others.length > 0) {
      console.warn(`claims: non-201 statuses ${JSON.stringify(others)}`);
      console.warn(tailOf(join(work, "server.log"), 3));
    }
    const sent = Object.values(run.statuses).reduce((a, b) => a + b, 0);
    if (sent >= CLAIMS) console.warn(`claims: all ${CLAIMS} pre-signed claims were used`);
    const ours = { run, created: run.statuses["201"] ?? 0, rows: await claimRows(owner) };
    return claimsTable(ours, bare);
  } finally {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(await claimsBench());
