import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { LoadConfig, LoadResult } from "./load.ts";

/** A free loopback port (bind to 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** Polls `url` until it answers 200; returns ms since `since` or throws after `timeoutMs`. */
export async function waitForOk(url: string, since: number, timeoutMs = 10_000): Promise<number> {
  while (performance.now() - since < timeoutMs) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    await Bun.sleep(2);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

export function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r: (string | number)[]) =>
    `| ${r.map((c, i) => String(c).padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line(rows[0]!),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.slice(1).map(line),
  ].join("\n");
}

export interface Spawned {
  proc: Bun.Subprocess;
  url: string;
  stop(): Promise<void>;
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
export async function stopProcess(proc: Bun.Subprocess, graceMs = 5000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/**
 * Starts `cmd` as a separate process listening on a free loopback port (given to `env(port)`) and
 * waits until `readyPath` answers 200. Stderr goes to `logFile` when given.
 */
export async function spawnServer(
  cmd: string[],
  env: (port: number) => Record<string, string>,
  readyPath: string,
  logFile?: string,
): Promise<Spawned> {
  const port = await freePort();
  const proc = Bun.spawn(
    cmd.map((c) => c.replaceAll("{port}", String(port))),
    {
      env: { ...process.env, ...env(port) },
      stdout: "ignore",
      stderr: logFile ? Bun.file(logFile) : "inherit",
    },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForOk(`${url}${readyPath}`, performance.now(), 20_000);
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return { proc, url, stop: () => stopProcess(proc) };
}

/** CPU time (ms) the whole machine spent busy (not idle or iowait), from /proc/stat. */
function machineBusyMs(): number {
  if (!existsSync("/proc/stat")) return Number.NaN;
  const ticks = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1);
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10
  );
}

/** CPU time (ms) a live process has used, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * CPU time (ms) of a process's main thread: in a Bun server, the thread that runs all JavaScript
 * and the synchronous database driver (the WAL checkpointer, the JIT and the GC run on others).
 */
export function mainThreadCpuMs(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuMs(path: string): number {
  if (!existsSync(path)) return Number.NaN;
  const fields = readFileSync(path, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Where the CPU went during a load run, in cores (1 = one core busy the whole run). */
export interface CpuSplit {
  server: number;
  loadgen: number;
  /** Everything else: other processes on the machine and kernel time not charged to ours. */
  other: number;
  /** Server CPU time per response (warm-up included), in microseconds: robust to noise. */
  serverUsPerRequest: number;
  /** The part of it spent on the server's main (JavaScript) thread. */
  mainThreadUsPerRequest: number;
}

export type LoadRun = LoadResult & { cpu: CpuSplit };

/**
 * Runs bench/load.ts in its own process with `config` (written to `configPath`) and reports the
 * CPU used by the server (`serverPid`), the load generator and everything else meanwhile.
 */
export async function runLoadProcess(
  config: LoadConfig,
  configPath: string,
  serverPid: number,
): Promise<LoadRun> {
  await Bun.write(configPath, JSON.stringify(config));
  const started = {
    wall: performance.now(),
    busy: machineBusyMs(),
    server: processCpuMs(serverPid),
    mainThread: mainThreadCpuMs(serverPid),
  };
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "load.ts"), configPath], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`load generator failed: ${out}`);
  const wall = performance.now() - started.wall;
  const usage = proc.resourceUsage()?.cpuTime;
  const loadgen = usage ? Number(usage.user + usage.system) / 1000 : Number.NaN;
  const server = processCpuMs(serverPid) - started.server;
  const mainThread = mainThreadCpuMs(serverPid) - started.mainThread;
  const other = machineBusyMs() - started.busy - server - loadgen;
  const cores = (ms: number) => Math.round((ms / wall) * 100) / 100;
  const line = out.trim().split("\n").at(-1) ?? "";
  const result = JSON.parse(line) as LoadResult;
  const responses = Object.values(result.statuses).reduce((a, b) => a + b, 0);
  const perResponse = (ms: number) => Math.round((ms * 1000) / Math.max(1, responses));
  const split = { server: cores(server), loadgen: cores(loadgen), other: cores(other) };
  return {
    ...result,
    cpu: {
      ...split,
      serverUsPerRequest: perResponse(server),
      mainThreadUsPerRequest: perResponse(mainThread),
    },
  };
}

/** The last `lines` lines of a log file ("" when missing), for reporting server errors. */
export function tailOf(path: string, lines = 20): string {
  if (!existsSync(path)) return "";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}
