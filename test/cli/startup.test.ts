/**
 * Start-up failures about the data dir and the listen address are one line naming the setting,
 * exit 2 (operations.md §5) — not a raw `ENOENT … listen` or `ConnectionFailed(… 14)`.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, stderrLines } from "../helpers/cli.ts";

// Each test runs several real processes.
setDefaultTimeout(60_000);

const work = mkdtempSync(join(tmpdir(), "sigilum-startup-"));

function serve(env: Record<string, string>, args: string[] = []) {
  return runCli(["serve", ...args], {
    env: { SIGILUM_HOST: "127.0.0.1", SIGILUM_PORT: "0", SIGILUM_LOG_FORMAT: "json", ...env },
    timeoutMs: 10_000,
  });
}

/** stderr without the JSON log lines the server may have written before failing. */
function errorLines(res: { stderr: string }) {
  return stderrLines({ stderr: res.stderr, stdout: "", code: 0 }).filter((l) => !l.startsWith("{"));
}

describe("start-up failures name the setting and exit 2", () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test("SIGILUM_DATA_DIR is a file, or below one", async () => {
    const file = join(work, "a-file");
    writeFileSync(file, "x");
    for (const dataDir of [file, join(file, "sub")]) {
      const res = await serve({ SIGILUM_DATA_DIR: dataDir });
      expect({ dataDir, code: res.code }).toEqual({ dataDir, code: 2 });
      expect(errorLines(res)).toHaveLength(1);
      expect(res.stderr).toContain("SIGILUM_DATA_DIR");
      expect(res.stderr).toContain(dataDir);
    }
  });

  test("SIGILUM_DATA_DIR is not writable", async () => {
    // root ignores directory modes, so as root use a directory nobody may create files in.
    let dataDir = "/proc";
    if (process.getuid?.() !== 0) {
      dataDir = join(work, "read-only");
      mkdirSync(dataDir);
      chmodSync(dataDir, 0o500);
    }
    const res = await serve({ SIGILUM_DATA_DIR: dataDir });
    expect(res.code).toBe(2);
    expect(errorLines(res)).toHaveLength(1);
    expect(res.stderr).toContain("SIGILUM_DATA_DIR");
    expect(res.stderr).toContain("not writable");
    expect(res.stderr).not.toContain("ConnectionFailed");
  });

  test("SIGILUM_PORT already in use", async () => {
    const taken = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const res = await serve({
        SIGILUM_DATA_DIR: join(work, "port"),
        SIGILUM_PORT: String(taken.port),
      });
      expect(res.code).toBe(2);
      expect(errorLines(res)).toHaveLength(1);
      expect(res.stderr).toContain("SIGILUM_PORT");
      expect(res.stderr).toContain(`${taken.port} is already in use`);
    } finally {
      taken.stop(true);
    }
  });

  test("SIGILUM_HOST not an address of this machine", async () => {
    for (const host of ["192.0.2.1", "no-such-host.invalid"]) {
      const res = await serve({ SIGILUM_DATA_DIR: join(work, "host"), SIGILUM_HOST: host });
      expect({ host, code: res.code }).toEqual({ host, code: 2 });
      expect(errorLines(res)).toHaveLength(1);
      expect(res.stderr).toContain("SIGILUM_HOST");
      expect(res.stderr).toContain(host);
    }
  });

  test("migrate says which database it created or updated", async () => {
    const dataDir = join(work, "fresh");
    const first = await runCli(["migrate"], { env: { SIGILUM_DATA_DIR: dataDir } });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`created a new database at ${join(dataDir, "sigilum.db")}`);
    const second = await runCli(["migrate"], { env: { SIGILUM_DATA_DIR: dataDir } });
    expect(second.stdout).toContain(`${join(dataDir, "sigilum.db")} is up to date`);
    expect(existsSync(join(dataDir, "sigilum.db"))).toBe(true);
  });
});
