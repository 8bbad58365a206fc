// POST /v1/claims, signed, each request a NEW claim (distinct agent key and nonce), 64 connections
// from a separate load-generator process until the pre-signed requests run out or the duration
// ends (quality.md §5: report claims/s and p99; ≥ 1 000 claims/s on 2 cores). Afterwards the
// number of 201s must equal the number of claim rows the API reports.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity } from "../src/signing/index.ts";
import { type LoadRun, runLoadProcess, type Spawned, table, tailOf } from "./lib.ts";
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
/** More than 10 s at 2 000 claims/s: the run ends at the duration unless the server is faster. */
const CLAIMS = 20_000;

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

function claimsTable(r: LoadRun, created: number, rows: number): string {
  const met = r.rps >= 1000 && r.errors === 0 && created === rows;
  return table([
    [
      "benchmark (64 conns)",
      "claims/s",
      "p50 ms",
      "p99 ms",
      "max ms",
      "measured requests",
      "errors",
      "201s (all phases) / claim rows",
      "target",
      "met",
      "server CPU µs/claim",
      "CPU cores server / loadgen / other",
    ],
    [
      "POST /v1/claims, new claims",
      r.rps,
      r.p50Ms.toFixed(2),
      r.p99Ms.toFixed(2),
      r.maxMs.toFixed(2),
      r.requests,
      r.errors,
      `${created} / ${rows}`,
      "≥ 1 000 claims/s",
      met ? "yes" : "NO",
      r.cpu.serverUsPerRequest,
      `${r.cpu.server} / ${r.cpu.loadgen} / ${r.cpu.other}`,
    ],
  ]);
}

export async function claimsBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "sigilum-bench-claims-"));
  let server: Spawned | undefined;
  try {
    server = await startSigilum(join(work, "data"), join(work, "server.log"));
    const owner = await ownerWithKey(server.url, "bench-claims", "bench-svc");
    const requests = await presignedClaims(owner, CLAIMS);
    const result = await runLoadProcess(
      {
        url: `${owner.url}/v1/claims`,
        method: "POST",
        concurrency: CONNECTIONS,
        warmupMs: WARMUP_MS,
        durationMs: DURATION_MS,
        headers: { authorization: `Bearer ${owner.apiKey}`, "content-type": "application/json" },
        requests,
        unique: true,
      },
      join(work, "load.json"),
      server.proc.pid,
    );
    const others = Object.entries(result.statuses).filter(([s]) => s !== "201");
    if (others.length > 0) {
      console.warn(`claims: non-201 statuses ${JSON.stringify(others)}`);
      console.warn(tailOf(join(work, "server.log"), 3));
    }
    return claimsTable(result, result.statuses["201"] ?? 0, await claimRows(owner));
  } finally {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(await claimsBench());
