// Cold start of the compiled binary to ready (/readyz 200) on an existing database, against a
// compiled bare Bun.serve binary measured the same way in the same run (quality.md §5: < 300 ms).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildBinary } from "../scripts/build.ts";
import { freePort, median, table, waitForOk } from "./lib.ts";

const RUNS = 10;

async function startOnce(bin: string, args: string[], env: Record<string, string>, path: string) {
  const port = await freePort();
  const started = performance.now();
  const proc = Bun.spawn([bin, ...args], {
    env: { ...env, SIGILUM_PORT: String(port), PORT: String(port), TMPDIR: tmpdir() },
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    return await waitForOk(`http://127.0.0.1:${port}${path}`, started);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

async function measure(bin: string, args: string[], env: Record<string, string>, path: string) {
  await startOnce(bin, args, env, path); // warm the page cache and the unpacked addon
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await startOnce(bin, args, env, path));
  return median(times);
}

export async function coldStartBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "sigilum-bench-cold-"));
  try {
    const sigilum = resolve("dist/sigilum");
    if (!existsSync(sigilum)) await buildBinary({ entry: "src/main.ts", outfile: sigilum });
    const hello = join(work, "hello.ts");
    writeFileSync(
      hello,
      'Bun.serve({ hostname: "127.0.0.1", port: Number(process.env.PORT), fetch: () => Response.json({ status: "ok" }) });\n',
    );
    const baselineBin = join(work, "hello");
    const built = Bun.spawnSync([
      process.execPath,
      "build",
      "--compile",
      hello,
      "--outfile",
      baselineBin,
    ]);
    if (built.exitCode !== 0) throw new Error(`baseline build failed: ${built.stderr}`);

    const dataDir = join(work, "data");
    const env = { SIGILUM_DATA_DIR: dataDir, SIGILUM_HOST: "127.0.0.1", SIGILUM_LOG_LEVEL: "warn" };
    const migrated = Bun.spawnSync([sigilum, "migrate"], { env: { ...env, TMPDIR: tmpdir() } });
    if (migrated.exitCode !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);

    const baseline = await measure(baselineBin, [], {}, "/");
    const ours = await measure(sigilum, ["serve"], env, "/readyz");
    return table([
      [
        "benchmark",
        "median ms to ready",
        "baseline (bare Bun.serve binary) ms",
        "ratio (ours / baseline)",
        "target",
      ],
      [
        "cold start, existing DB",
        ours.toFixed(1),
        baseline.toFixed(1),
        (ours / baseline).toFixed(2),
        "< 300 ms",
      ],
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
