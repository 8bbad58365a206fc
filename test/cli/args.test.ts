/** How every subcommand treats its arguments: `--help`, bad flags, boolean flags, one-line errors. */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, runCliMany, stderrLines } from "../helpers/cli.ts";

// Each test runs several real processes.
setDefaultTimeout(60_000);

const SUBCOMMANDS = [
  ["serve"],
  ["migrate"],
  ["backup"],
  ["owner"],
  ["owner", "create"],
  ["owner", "reset-password"],
  ["identity"],
  ["identity", "init"],
  ["sign"],
  ["webhook"],
  ["webhook", "verify"],
  ["healthcheck"],
  ["version"],
];

// A line only the full settings table has: usage errors must not print the whole table.
const SETTINGS_TABLE_LINE = "SIGILUM_WEBHOOK_RETRY_SCHEDULE";

describe("CLI arguments", () => {
  test("every subcommand has --help (and -h), printed on stdout with exit 0", async () => {
    const cases = SUBCOMMANDS.flatMap((command) => [
      [...command, "--help"],
      [...command, "-h"],
    ]);
    const results = await runCliMany(cases);
    for (const [i, args] of cases.entries()) {
      const res = results[i]!;
      expect({ args, code: res.code, stderr: res.stderr }).toEqual({ args, code: 0, stderr: "" });
      expect(res.stdout).toContain(`sigilum ${args.slice(0, -1).join(" ")}`);
    }
  });

  test("a bad flag prints that command's usage (not the settings table) and exits 2", async () => {
    const cases: [string[], string][] = [
      [["identity", "init", "acme", "--bogus"], "sigilum identity init"],
      [["backup", "--bogus", "x.db"], "sigilum backup"],
      [["owner", "create", "acme", "--email", "a@b.example", "--bogus"], "sigilum owner create"],
      [["owner", "reset-password", "acme", "--bogus"], "sigilum owner reset-password"],
      [["webhook", "verify", "--bogus", "x"], "sigilum webhook verify"],
      [["sign", "--bogus", "http://127.0.0.1:9/"], "sigilum sign"],
      [["migrate", "--bogus"], "sigilum migrate"],
      [["version", "extra"], "sigilum version"],
    ];
    const results = await runCliMany(cases.map(([args]) => args));
    for (const [i, [args, usage]] of cases.entries()) {
      const res = results[i]!;
      expect({ args, code: res.code }).toEqual({ args, code: 2 });
      expect(stderrLines(res)[0]).toStartWith("sigilum: ");
      expect(res.stderr).toContain(usage);
      expect(res.stderr).not.toContain(SETTINGS_TABLE_LINE);
    }
    const missing = await runCli(["identity", "init", "acme", "--home"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--home");
  });

  test("an unknown command lists the commands, without the settings table", async () => {
    const res = await runCli(["frobnicate"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown command frobnicate");
    expect(res.stderr).toContain("sigilum backup <file>");
    expect(res.stderr).not.toContain(SETTINGS_TABLE_LINE);
  });

  test("boolean flags work alone and with =true / =false", async () => {
    const home = mkdtempSync(join(tmpdir(), "sigilum-args-"));
    try {
      const alone = await runCli(["identity", "init", "acme", "--home", home, "--json"]);
      expect(alone.code).toBe(0);
      expect(JSON.parse(alone.stdout).namespace).toBe("acme");
      const explicit = await runCli([
        "identity",
        "init",
        "acme",
        "--home",
        home,
        "--json=true",
        "--force=true",
      ]);
      expect(explicit.code).toBe(0);
      expect(JSON.parse(explicit.stdout).namespace).toBe("acme");
      const off = await runCli([
        "identity",
        "init",
        "acme",
        "--home",
        home,
        "--json=false",
        "--force",
      ]);
      expect(off.code).toBe(0);
      expect(off.stdout).toStartWith("namespace  acme");
      const bad = await runCli(["identity", "init", "acme", "--home", home, "--json=maybe"]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--json");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("boolean serve settings are boolean flags: --trust-proxy needs no value", async () => {
    // The bad port stops start-up after the flags are read, so nothing is served.
    const res = await runCli([
      "serve",
      "--trust-proxy",
      "--webhook-allow-http=true",
      "--port",
      "eighty",
    ]);
    expect(res.code).toBe(2);
    expect(stderrLines(res)).toHaveLength(1);
    expect(res.stderr).toContain("SIGILUM_PORT");
  });

  test("errors that are not usage errors are one line, without usage", async () => {
    const home = mkdtempSync(join(tmpdir(), "sigilum-args-"));
    try {
      expect((await runCli(["identity", "init", "acme", "--home", home])).code).toBe(0);
      const again = await runCli(["identity", "init", "acme", "--home", home]);
      expect(again.code).toBe(1);
      expect(stderrLines(again)).toHaveLength(1);
      expect(again.stderr).toContain("already exists");
      const noIdentity = await runCli([
        "sign",
        "--home",
        join(home, "none"),
        "http://127.0.0.1:9/x",
      ]);
      expect(noIdentity.code).toBe(1);
      expect(stderrLines(noIdentity)).toHaveLength(1);
      expect(noIdentity.stderr).toContain("sigilum identity init");
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
