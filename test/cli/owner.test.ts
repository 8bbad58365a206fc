/**
 * `sigilum owner create` and `sigilum owner reset-password`: the password never appears on a
 * terminal or in output; the database must already exist; a reset ends the owner's sessions.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN, runCli, stderrLines } from "../helpers/cli.ts";
import { ApiClient, PASSWORD, signUp, startTestServer } from "../helpers/server.ts";
import type { ApiErrorBody, UserBody } from "../helpers/types.ts";

// Each test runs several real processes.
setDefaultTimeout(60_000);

const NEW_PASSWORD = "a-brand-new-password-7";

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), typing each answer once its prompt
 * shows. Returns everything the terminal displayed, which includes any echoed input.
 */
async function onTerminal(
  args: string[],
  env: Record<string, string>,
  answers: [string, string][],
) {
  const command = [process.execPath, MAIN, ...args]
    .map((a) => `'${a.replaceAll("'", `'\\''`)}'`)
    .join(" ");
  const proc = Bun.spawn(["script", "-qec", command, "/dev/null"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", TERM: "dumb", ...env },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
  let screen = "";
  let searchFrom = 0;
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  const pending = [...answers];
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    screen += decoder.decode(chunk.value, { stream: true });
    const next = pending[0];
    const at = next ? screen.indexOf(next[0], searchFrom) : -1;
    if (next && at >= 0) {
      searchFrom = at + next[0].length;
      pending.shift();
      proc.stdin.write(`${next[1]}\r`);
      proc.stdin.flush();
    }
  }
  proc.stdin.end();
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, screen };
}

describe("sigilum owner", () => {
  const dir = mkdtempSync(join(tmpdir(), "sigilum-owner-"));
  const env = { SIGILUM_DATA_DIR: dir };
  beforeAll(async () => {
    const migrated = await runCli(["migrate"], { env });
    if (migrated.code !== 0) throw new Error(migrated.stderr);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("create refuses when the database does not exist, naming the path it looked at", async () => {
    const empty = mkdtempSync(join(tmpdir(), "sigilum-owner-empty-"));
    try {
      const res = await runCli(
        ["owner", "create", "acme", "--email", "a@acme.example", "--password-stdin"],
        {
          env: { SIGILUM_DATA_DIR: empty },
          stdin: `${PASSWORD}\n`,
        },
      );
      expect(res.code).toBe(2);
      expect(stderrLines(res)).toHaveLength(1);
      expect(res.stderr).toContain(join(empty, "sigilum.db"));
      expect(res.stderr).toContain("sigilum migrate");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("create reads the password from stdin and never prints it", async () => {
    const res = await runCli(
      ["owner", "create", "piped-co", "--email", "boss@piped.example", "--password-stdin"],
      {
        env,
        stdin: `${PASSWORD}\n`,
      },
    );
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("created owner piped-co");
    expect(res.stdout + res.stderr).not.toContain(PASSWORD);
    // Without the flag, a stdin that is not a terminal is read all the same.
    const implicit = await runCli(
      ["owner", "create", "piped-two", "--email", "two@piped.example"],
      {
        env,
        stdin: `${PASSWORD}\n`,
      },
    );
    expect(implicit.code).toBe(0);
    const short = await runCli(["owner", "create", "piped-three", "--email", "3@piped.example"], {
      env,
      stdin: "short\n",
    });
    expect(short.code).toBe(2);
    expect(stderrLines(short)).toHaveLength(1);
    expect(short.stderr).toContain("10–256");
  });

  test.skipIf(!Bun.which("script"))(
    "on a terminal, create prompts twice and does not echo",
    async () => {
      const res = await onTerminal(
        ["owner", "create", "tty-co", "--email", "boss@tty.example"],
        env,
        [
          ["Password:", PASSWORD],
          ["Repeat password:", PASSWORD],
        ],
      );
      expect(res.code).toBe(0);
      expect(res.screen).toContain("Password:");
      expect(res.screen).toContain("created owner tty-co");
      expect(res.screen).not.toContain(PASSWORD);
      const mismatch = await onTerminal(
        ["owner", "create", "tty-two", "--email", "two@tty.example"],
        env,
        [
          ["Password:", PASSWORD],
          ["Repeat password:", `${PASSWORD}x`],
        ],
      );
      expect(mismatch.code).toBe(2);
      expect(mismatch.screen).toContain("passwords do not match");
      expect(mismatch.screen).not.toContain(PASSWORD);
    },
  );

  test("reset-password sets a new password and ends the owner's sessions", async () => {
    const t = await startTestServer({ dataDir: dir });
    try {
      const { client, namespace, email } = await signUp(t);
      expect((await client.get<UserBody>("/v1/auth/me")).status).toBe(200);
      const res = await runCli(
        ["owner", "reset-password", email.toUpperCase(), "--password-stdin"],
        {
          env,
          stdin: `${NEW_PASSWORD}\n`,
        },
      );
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(`password reset for ${namespace}`);
      expect(res.stdout).toContain("1 session ended");
      expect(res.stdout + res.stderr).not.toContain(NEW_PASSWORD);
      expect((await client.get<ApiErrorBody>("/v1/auth/me")).status).toBe(401);
      const login = (password: string) =>
        new ApiClient(t.url, t.origin).post<UserBody>("/v1/auth/login", {
          login: namespace,
          password,
        });
      expect((await login(PASSWORD)).status).toBe(401);
      expect((await login(NEW_PASSWORD)).status).toBe(200);

      const unknown = await runCli(["owner", "reset-password", "nobody-here", "--password-stdin"], {
        env,
        stdin: `${NEW_PASSWORD}\n`,
      });
      expect(unknown.code).toBe(1);
      expect(stderrLines(unknown)).toHaveLength(1);
      expect(unknown.stderr).toContain("no owner");
    } finally {
      await t.close();
    }
  });

  test.skipIf(!Bun.which("script"))(
    "on a terminal, reset-password prompts without echo",
    async () => {
      const made = await runCli(["owner", "create", "tty-reset", "--email", "r@tty.example"], {
        env,
        stdin: `${PASSWORD}\n`,
      });
      expect(made.code).toBe(0);
      const res = await onTerminal(["owner", "reset-password", "tty-reset"], env, [
        ["Password:", NEW_PASSWORD],
        ["Repeat password:", NEW_PASSWORD],
      ]);
      expect(res.code).toBe(0);
      expect(res.screen).toContain("password reset for tty-reset");
      expect(res.screen).not.toContain(NEW_PASSWORD);
    },
  );
});
