// Memory (quality.md §5): the server's RSS after 100 000 signed claims, each delivered to a
// webhook (so 100 000 deliveries too), from a separate load generator; target < 200 MiB.
// BENCH_MEMORY_COUNT lowers the count for a quick look.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { presignedClaims } from "./claims.ts";
import { runLoadProcess, type Spawned, spawnServer, table } from "./lib.ts";
import { ownerCall, ownerWithKey, startSigilum } from "./sigilum.ts";

const COUNT = Number(process.env.BENCH_MEMORY_COUNT ?? 100_000);
const ENV = {
  SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
  SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true",
  // The requests are signed up front; at ~650 claims/s the last ones are minutes old.
  SIGILUM_SIGNATURE_MAX_AGE: "900s",
  SIGILUM_SIGNATURE_NONCE_TTL: "1000s",
};

/** VmRSS and VmHWM (peak) of a live process, in MiB. */
function rssMiB(pid: number): { rss: number; peak: number } {
  const path = `/proc/${pid}/status`;
  if (!existsSync(path)) return { rss: Number.NaN, peak: Number.NaN };
  const status = readFileSync(path, "utf8");
  const kb = (field: string) =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

async function waitForDeliveries(
  receiverUrl: string,
  total: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let received = 0;
  while (performance.now() < deadline) {
    received = Number(await (await fetch(`${receiverUrl}/count`)).text());
    if (received >= total) break;
    await Bun.sleep(250);
  }
  return received;
}

export async function memoryBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "sigilum-bench-memory-"));
  let server: Spawned | undefined;
  const receiver = await spawnServer(
    [process.execPath, join(import.meta.dir, "receiver.ts"), "{port}"],
    () => ({}),
    "/count",
  );
  try {
    server = await startSigilum(join(work, "data"), join(work, "server.log"), ENV);
    const owner = await ownerWithKey(server.url, "bench-memory", "bench-memory-svc");
    const services = (await ownerCall(owner, "GET", "/v1/services")) as {
      services: { id: string }[];
    };
    await ownerCall(owner, "POST", `/v1/services/${services.services[0]!.id}/webhooks`, {
      url: `${receiver.url}/hook`,
    });
    const atStart = rssMiB(server.proc.pid);
    const requests = await presignedClaims(owner, COUNT);
    const load = await runLoadProcess(
      {
        url: `${owner.url}/v1/claims`,
        method: "POST",
        concurrency: 64,
        warmupMs: 0,
        durationMs: 900_000,
        headers: { authorization: `Bearer ${owner.apiKey}`, "content-type": "application/json" },
        requests,
        unique: true,
      },
      join(work, "load.json"),
      server.proc.pid,
    );
    const delivered = await waitForDeliveries(receiver.url, COUNT, 600_000);
    const after = rssMiB(server.proc.pid);
    const created = load.statuses["201"] ?? 0;
    const met = after.rss < 200 && created === COUNT && delivered >= COUNT;
    return table([
      [
        "benchmark",
        "claims (201)",
        "deliveries received",
        "RSS at start MiB",
        "RSS after MiB",
        "peak RSS MiB",
        "target",
        "met",
      ],
      [
        "server memory after claims + deliveries",
        created,
        delivered,
        atStart.rss.toFixed(0),
        after.rss.toFixed(0),
        after.peak.toFixed(0),
        `< 200 MiB after ${COUNT} + ${COUNT}`,
        met ? "yes" : "NO",
      ],
    ]);
  } finally {
    await server?.stop();
    await receiver.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) console.log(await memoryBench());
