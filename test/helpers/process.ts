import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

const REPO_ROOT = join(import.meta.dir, "..", "..");

export interface ServerProcess {
  url: string;
  dataDir: string;
  child: Subprocess;
  /** SIGTERM, wait for the exit, remove the data dir if this helper made it. */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** Another server's data dir (same database file, same secret.key); a fresh temp dir if omitted. */
  dataDir?: string;
  env?: Record<string, string>;
  /** Where the process's stdout and stderr go (default: ignored). */
  output?: "ignore" | "pipe" | Bun.BunFile;
}

async function freePort(): Promise<number> {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port!;
  await probe.stop(true);
  return port;
}

/** A real `sigilum serve` process on loopback, ready when /readyz answers 200. */
export async function spawnServer(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sigilum-proc-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output = options.output ?? "ignore";
  const child = Bun.spawn([process.execPath, "src/main.ts", "serve"], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      SIGILUM_DATA_DIR: dataDir,
      SIGILUM_PORT: String(port),
      SIGILUM_HOST: "127.0.0.1",
      SIGILUM_LOG_LEVEL: "info",
      SIGILUM_LOG_FORMAT: "json",
      SIGILUM_RATE_LIMIT_AUTH: "10000",
      ...options.env,
    },
    stdin: "ignore",
    stdout: output,
    stderr: output,
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await child.exited;
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) return { url, dataDir, child, stop };
    } catch {
      // not listening yet
    }
    await Bun.sleep(25);
  }
  await stop();
  throw new Error(`server at ${url} not ready (exit ${child.exitCode})`);
}
