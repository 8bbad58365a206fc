import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dir, "..", "..");
export const MAIN = join(REPO_ROOT, "src/main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Text written to the command's stdin (a pipe, so not a TTY); none means stdin is closed. */
  stdin?: string;
  timeoutMs?: number;
}

/**
 * Runs `bun src/main.ts …` as a real child process with a minimal environment. Async, so a
 * server in the test process keeps serving while the command talks to it.
 */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "",
      ...options.env,
    },
    stdin: options.stdin === undefined ? "ignore" : new Blob([options.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The lines a command wrote to stderr (trailing newline dropped). */
export function stderrLines(result: CliResult): string[] {
  return result.stderr.trimEnd().split("\n");
}

/** Runs many commands, a few at a time (the machine has 2 cores and other tests run too). */
export async function runCliMany(cases: string[][], concurrency = 4): Promise<CliResult[]> {
  const results: CliResult[] = [];
  for (let i = 0; i < cases.length; i += concurrency) {
    const batch = cases.slice(i, i + concurrency).map((args) => runCli(args));
    results.push(...(await Promise.all(batch)));
  }
  return results;
}
