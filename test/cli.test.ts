import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { signUp, startTestServer } from "./helpers/server.ts";
import { ownerWithKey } from "./helpers/setup.ts";
import type { Claim, Service } from "./helpers/types.ts";

const MAIN = join(import.meta.dir, "../src/main.ts");

// Each test runs real processes; on a busy 2-core machine a few take more than 5 s.
setDefaultTimeout(30_000);

function sigilum(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawnSync([process.execPath, MAIN, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

/** Async spawn: the in-process test server must keep serving while the CLI talks to it. */
async function sigilumAsync(args: string[]) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

describe("sigilum CLI", () => {
  test("version and help", () => {
    const version = sigilum(["version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = sigilum(["--help"]);
    expect(help.code).toBe(0);
    for (const cmd of ["[serve]", "migrate", "backup", "version"])
      expect(help.stdout).toContain(`sigilum ${cmd}`);
    expect(help.stdout).toContain("SIGILUM_DATABASE_URL");
    expect(sigilum(["backup", "--help"]).stdout).toContain("VACUUM INTO");
  });

  test("bad commands and flags print usage and exit 2", () => {
    const unknown = sigilum(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command frobnicate");
    const flag = sigilum(["serve", "--no-such-flag", "1"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown flag --no-such-flag");
    expect(sigilum(["backup"]).code).toBe(2);
  });

  test("a bad setting stops start-up with one line naming the variable", () => {
    const res = sigilum(["serve"], { SIGILUM_PORT: "eighty" });
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toContain("SIGILUM_PORT");
    const flag = sigilum(["serve", "--signup", "sometimes"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("SIGILUM_SIGNUP: must be one of open, closed");
  });

  test("owner create makes an account that can log in while sign-up is closed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sigilum-owner-"));
    expect(sigilum(["migrate"], { SIGILUM_DATA_DIR: dir }).code).toBe(0); // owner create needs a database
    const made = sigilum(["owner", "create", "Closed-Co", "--email", "boss@closed.example"], {
      SIGILUM_DATA_DIR: dir,
      SIGILUM_OWNER_PASSWORD: "a-long-password-1",
    });
    expect(made.code).toBe(0);
    expect(made.stdout).toContain("created owner closed-co");
    expect(made.stdout).not.toContain("a-long-password-1");
    const taken = sigilum(["owner", "create", "closed-co", "--email", "x@closed.example"], {
      SIGILUM_DATA_DIR: dir,
      SIGILUM_OWNER_PASSWORD: "a-long-password-1",
    });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("NAMESPACE_TAKEN");
    const short = sigilum(["owner", "create", "other-co", "--email", "o@x.example"], {
      SIGILUM_DATA_DIR: dir,
      SIGILUM_OWNER_PASSWORD: "short",
    });
    expect(short.code).toBe(2);
    const t = await startTestServer({ dataDir: dir, env: { SIGILUM_SIGNUP: "closed" } });
    const login = await fetch(`${t.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ login: "closed-co", password: "a-long-password-1" }),
    });
    expect(login.status).toBe(200);
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("identity init + sign: a person can submit a claim and verify from a terminal", async () => {
    const t = await startTestServer();
    const setup = await ownerWithKey(t);
    const home = mkdtempSync(join(tmpdir(), "sigilum-home-"));
    const init = sigilum(["identity", "init", setup.namespace, "--home", home, "--json"]);
    expect(init.code).toBe(0);
    const facts = JSON.parse(init.stdout);
    expect(facts.public_key).toMatch(/^ed25519:/);
    expect(facts.agent_key).toMatch(/^did:key:z6Mk/);
    expect(init.stdout).not.toContain("privateKey");
    expect((statSync(facts.path).mode & 0o777).toString(8)).toBe("600");
    expect(sigilum(["identity", "init", setup.namespace, "--home", home]).code).toBe(1);

    const body = JSON.stringify({
      namespace: setup.namespace,
      public_key: facts.public_key,
      service: setup.slug,
      agent_ip: "203.0.113.9",
      nonce: "cli-nonce-0001",
    });
    const submit = await sigilumAsync([
      "sign",
      "--home",
      home,
      "--api-key",
      setup.apiKey,
      "-d",
      body,
      `${t.url}/v1/claims`,
    ]);
    expect(submit.code).toBe(0);
    const claim = JSON.parse(submit.stdout);
    expect(claim.status).toBe("pending");
    await setup.client.post<Claim>(`/v1/claims/${claim.claim_id}/approve`);

    const verify = await sigilumAsync([
      "sign",
      "-i",
      "--home",
      home,
      `${t.url}/v1/verify?namespace=${setup.namespace}&service=${setup.slug}`,
    ]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toStartWith("HTTP 200");
    expect(verify.stdout).toContain('"authorized":true');

    const dry = await sigilumAsync([
      "sign",
      "--dry-run",
      "--home",
      home,
      "-X",
      "DELETE",
      `${t.url}/x`,
    ]);
    expect(dry.stdout).toContain("signature-input: sig1=(");
    expect(sigilum(["sign", "--bogus", "x"]).code).toBe(2);
    rmSync(home, { recursive: true, force: true });
    await t.close();
  });

  test("migrate applies the schema and exits", () => {
    const dir = mkdtempSync(join(tmpdir(), "sigilum-cli-"));
    const first = sigilum(["migrate"], { SIGILUM_DATA_DIR: dir });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("applied: 0000_init, 0001_claims");
    const second = sigilum(["migrate", "--data-dir", dir]);
    expect(second.stdout).toContain("up to date");
    rmSync(dir, { recursive: true, force: true });
  });

  test("backup makes a consistent copy of a live database", async () => {
    const t = await startTestServer();
    const { client, namespace } = await signUp(t);
    await client.post<Service>("/v1/services", { slug: `${namespace}-svc`, name: "Backed up" });
    const target = join(t.dataDir, "backup.db");
    const res = sigilum(["backup", target], { SIGILUM_DATA_DIR: t.dataDir });
    expect(res.code).toBe(0);
    expect(statSync(target).size).toBeGreaterThan(0);
    const copy = createClient({ url: `file:${target}` });
    const rows = await copy.execute("SELECT slug FROM services");
    expect(rows.rows.map((r) => r.slug)).toEqual([`${namespace}-svc`]);
    copy.close();
    const again = sigilum(["backup", target], { SIGILUM_DATA_DIR: t.dataDir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
    await t.close();
  });

  test("serve generates the secret key file once (0600) and exits 0 on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sigilum-serve-"));
    const proc = Bun.spawn(
      [process.execPath, MAIN, "serve", "--port", "0", "--host", "127.0.0.1"],
      {
        env: { PATH: process.env.PATH ?? "", SIGILUM_DATA_DIR: dir, SIGILUM_LOG_FORMAT: "json" },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const deadline = Date.now() + 10_000;
    while (!existsSync(join(dir, "secret.key")) && Date.now() < deadline) await Bun.sleep(50);
    await Bun.sleep(200);
    expect((statSync(join(dir, "secret.key")).mode & 0o777).toString(8)).toBe("600");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const log = await new Response(proc.stderr).text();
    expect(log).toContain('"msg":"listening"');
    expect(log).toContain('"msg":"shutting down"');
    rmSync(dir, { recursive: true, force: true });
  });
});
