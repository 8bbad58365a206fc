// `npm run bench`: runs every benchmark and prints its table under the machine line (quality.md §5).
import { cpus, loadavg, totalmem } from "node:os";
import { claimsBench } from "./claims.ts";
import { coldStartBench } from "./coldStart.ts";
import { dashboardBench } from "./dashboard.ts";
import { memoryBench } from "./memory.ts";
import { verifyBench } from "./verify.ts";
import { webhooksBench } from "./webhooks.ts";

const BENCHMARKS: [string, () => Promise<string>][] = [
  ["cold start", coldStartBench],
  ["GET /v1/verify", verifyBench],
  ["POST /v1/claims", claimsBench],
  ["webhook delivery", webhooksBench],
  ["memory", memoryBench],
  ["dashboard", dashboardBench],
];

function machine(): string {
  const cpu = cpus()[0]?.model ?? "cpu";
  const mem = Math.round(totalmem() / 2 ** 30);
  // Absolute figures on a shared machine depend on what else runs: the load average says how much.
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");
  return `${cpus().length} × ${cpu}, ${mem} GiB, ${process.platform} ${process.arch}, Bun ${Bun.version}, load average ${load}`;
}

// `npm run bench -- verify` runs only the benchmarks whose name contains "verify".
const only = process.argv[2]?.toLowerCase();
console.log(`# Sigilum benchmarks — ${new Date().toISOString()}\n`);
for (const [name, bench] of BENCHMARKS.filter(([n]) => !only || n.toLowerCase().includes(only))) {
  const table = await bench();
  console.log(`## ${name}\n# ${new Date().toISOString()} — ${machine()}\n\n${table}\n`);
}
