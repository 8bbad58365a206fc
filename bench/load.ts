// Load generator, run as its own process: `bun bench/load.ts <config.json>` (quality.md §5).
// Keeps `concurrency` requests in flight with Bun's fetch (keep-alive) for `warmupMs` (not
// recorded) then `durationMs` (recorded), or until `unique` requests run out, and prints one JSON
// line: {requests, errors, rps, p50Ms, p99Ms, maxMs, statuses}. `statuses` counts every response
// of both phases by status code ("network" for failed connections).
import { readFileSync } from "node:fs";
import { percentile } from "./lib.ts";

export interface LoadRequest {
  headers: Record<string, string>;
  body?: string;
}

export interface LoadConfig {
  url: string;
  method: string;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  /** Cycled; with `unique: true` each is sent at most once. Merged over `headers` / `body`. */
  requests?: LoadRequest[];
  headers?: Record<string, string>;
  body?: string;
  unique?: boolean;
}

export interface LoadResult {
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  statuses: Record<string, number>;
}

interface Recorder {
  latencies: number[];
  errors: number;
  statuses: Record<string, number>;
}

/** The next request to send, or null when unique requests have run out. */
function requestSource(config: LoadConfig): () => LoadRequest | null {
  const list = config.requests ?? [{ headers: {} }];
  let next = 0;
  return () => {
    if (config.unique && next >= list.length) return null;
    const r = list[next++ % list.length]!;
    return { headers: { ...config.headers, ...r.headers }, body: r.body ?? config.body };
  };
}

/** Sends one request and reads the whole body; the status code, or "network" on failure. */
async function send(config: LoadConfig, r: LoadRequest): Promise<string> {
  try {
    const res = await fetch(config.url, {
      method: config.method,
      headers: r.headers,
      body: r.body,
    });
    await res.arrayBuffer();
    return String(res.status);
  } catch {
    return "network";
  }
}

async function worker(
  config: LoadConfig,
  next: () => LoadRequest | null,
  measureFrom: number,
  until: number,
  rec: Recorder,
): Promise<void> {
  while (performance.now() < until) {
    const r = next();
    if (!r) return;
    const started = performance.now();
    const status = await send(config, r);
    rec.statuses[status] = (rec.statuses[status] ?? 0) + 1;
    if (started < measureFrom) continue;
    rec.latencies.push(performance.now() - started);
    if (!status.startsWith("2")) rec.errors += 1;
  }
}

export async function runLoad(config: LoadConfig): Promise<LoadResult> {
  const next = requestSource(config);
  const rec: Recorder = { latencies: [], errors: 0, statuses: {} };
  const measureFrom = performance.now() + config.warmupMs;
  const until = measureFrom + config.durationMs;
  const workers = Array.from({ length: config.concurrency }, () =>
    worker(config, next, measureFrom, until, rec),
  );
  await Promise.all(workers);
  const elapsedMs = Math.max(1, performance.now() - measureFrom);
  const sorted = rec.latencies.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    requests: sorted.length,
    errors: rec.errors,
    rps: Math.round((sorted.length / elapsedMs) * 1000),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
    statuses: rec.statuses,
  };
}

if (import.meta.main) {
  const path = process.argv[2];
  if (!path) throw new Error("usage: bun bench/load.ts <config.json>");
  const config = JSON.parse(readFileSync(path, "utf8")) as LoadConfig;
  console.log(JSON.stringify(await runLoad(config)));
}
