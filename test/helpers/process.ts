import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

const REPO_ROOT = join(import.meta.dir, "..", "..");

/** A child's stderr, read as it comes: the text so far, and the port from its "listening" line. */
export interface LogWatch {
  text: string;
  /** The port the server bound (it starts with SIGILUM_PORT=0), from the JSON "listening" line. */
  port: Promise<number>;
  /** Stops reading and closes the pipe (the child's later writes then fail). */
  close(): Promise<void>;
}

/**
 * Reads a `sigilum serve` child's JSON log (SIGILUM_LOG_LEVEL info or lower, so "listening" is
 * logged). Servers bind port 0 and report the port they got, so no probe-then-bind race.
 */
export function watchLog(stream: ReadableStream<Uint8Array>): LogWatch {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let found: (port: number) => void = () => undefined;
  let lost: (err: Error) => void = () => undefined;
  const port = new Promise<number>((resolve, reject) => {
    found = resolve;
    lost = reject;
  });
  port.catch(() => undefined); // a caller that never asks for the port gets no unhandled rejection
  const watch: LogWatch = { text: "", port, close: () => reader.cancel() };
  let scanned = 0;
  (async () => {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      watch.text += decoder.decode(r.value, { stream: true });
      const end = watch.text.lastIndexOf("\n") + 1;
      for (const line of watch.text.slice(scanned, end).split("\n")) {
        const match = /"msg":"listening".*"address":"[^"]*:(\d+)"/.exec(line);
        if (match) found(Number(match[1]));
      }
      scanned = end;
    }
    lost(new Error(`the server's log ended without a "listening" line:\n${watch.text}`));
  })().catch((err) => lost(err as Error));
  return watch;
}

/** Linux: the TCP port process `pid` listens on, from /proc (for a child whose log goes to a file). */
function listeningPortFromProc(pid: number): number | null {
  const sockets = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) sockets.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  for (const table of ["tcp", "tcp6"]) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols: sl, local address (hex ip:port), remote, state (0A = LISTEN), …, inode (10th)
      if (cols[3] === "0A" && sockets.has(cols[9] ?? "")) {
        return Number.parseInt(cols[1]!.split(":").pop()!, 16);
      }
    }
  }
  return null;
}

async function portFromProc(child: Subprocess, deadline: number): Promise<number> {
  while (Date.now() < deadline && child.exitCode === null) {
    const port = listeningPortFromProc(child.pid);
    if (port !== null) return port;
    await Bun.sleep(25);
  }
  throw new Error(`no listening socket (exit ${child.exitCode})`);
}

function before<T>(work: Promise<T>, deadline: number): Promise<T> {
  return Promise.race([
    work,
    Bun.sleep(Math.max(0, deadline - Date.now())).then(() => {
      throw new Error("timed out");
    }),
  ]);
}

export interface ServerProcess {
  url: string;
  dataDir: string;
  child: Subprocess;
  /** The child's stderr as read so far; null when its output goes to a file. */
  log: LogWatch | null;
  /** SIGTERM, wait for the exit, remove the data dir if this helper made it. */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** Another server's data dir (same database file, same secret.key); a fresh temp dir if omitted. */
  dataDir?: string;
  env?: Record<string, string>;
  /**
   * Where the process's stdout goes, and its stderr when a file (default: ignored). Without a
   * file, stderr is read by the helper (`log`) for the port and for diagnostics.
   */
  output?: "ignore" | "pipe" | Bun.BunFile;
}

/** A real `sigilum serve` process on loopback port 0, ready when /readyz answers 200. */
export async function spawnServer(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sigilum-proc-"));
  const output = options.output ?? "ignore";
  const toFile = typeof output === "object";
  const child = Bun.spawn([process.execPath, "src/main.ts", "serve"], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      SIGILUM_DATA_DIR: dataDir,
      SIGILUM_PORT: "0",
      SIGILUM_HOST: "127.0.0.1",
      SIGILUM_LOG_LEVEL: "info",
      SIGILUM_LOG_FORMAT: "json",
      SIGILUM_RATE_LIMIT_AUTH: "10000",
      ...options.env,
    },
    stdin: "ignore",
    stdout: output,
    stderr: toFile ? output : "pipe",
  });
  const log = toFile ? null : watchLog(child.stderr as ReadableStream<Uint8Array>);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await child.exited;
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  try {
    const port = await before(log ? log.port : portFromProc(child, deadline), deadline);
    const url = `http://127.0.0.1:${port}`;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        if ((await fetch(`${url}/readyz`)).status === 200)
          return { url, dataDir, child, log, stop };
      } catch {
        // not accepting yet
      }
      await Bun.sleep(25);
    }
    throw new Error("/readyz never answered 200");
  } catch (err) {
    await stop();
    throw new Error(
      `server not ready (exit ${child.exitCode}): ${(err as Error).message}\n${log?.text ?? ""}`,
    );
  }
}
