/**
 * `sigilum backup` (operations.md §3, §5): a consistent copy of the database plus the master key
 * beside it, so a restore keeps every webhook working; a server never starts over webhook secrets
 * sealed by a key it lacks; a backup never copies a database that does not exist.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { verifyWebhookSignature } from "../../src/webhooks/signature.ts";
import { runCli, stderrLines } from "../helpers/cli.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { WebhookCreated } from "../helpers/types.ts";

// Each test runs several real processes.
setDefaultTimeout(60_000);

const WEBHOOK_ENV = { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" };

/** Starts `sigilum serve` on `dataDir`; resolves with its exit code and output once it exits. */
async function serveUntilExit(dataDir: string, env: Record<string, string> = {}) {
  return runCli(["serve", "--port", "0", "--host", "127.0.0.1"], {
    env: { SIGILUM_DATA_DIR: dataDir, SIGILUM_LOG_FORMAT: "json", ...env },
    timeoutMs: 10_000,
  });
}

describe("sigilum backup and restore", () => {
  const receiver = startReceiver();
  const work = mkdtempSync(join(tmpdir(), "sigilum-backup-"));
  let t: TestServer;
  let s: ServiceSetup;
  let webhookId = "";
  let secret = "";
  beforeAll(async () => {
    t = await startTestServer({ env: WEBHOOK_ENV });
    s = await ownerWithKey(t);
    const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `${receiver.url}/hook`,
    });
    webhookId = hook.body.id;
    secret = hook.body.secret;
  });
  afterAll(async () => {
    await t.close();
    receiver.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test("writes the master key beside the copy (<file>.key, 0600)", async () => {
    const target = join(work, "live.db");
    const res = await runCli(["backup", target], { env: { SIGILUM_DATA_DIR: t.dataDir } });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`backup written to ${target}`);
    expect(res.stdout).toContain(`${target}.key`);
    expect(readFileSync(`${target}.key`, "utf8")).toBe(
      readFileSync(join(t.dataDir, "secret.key"), "utf8"),
    );
    expect((statSync(`${target}.key`).mode & 0o777).toString(8)).toBe("600");
    const copy = createClient({ url: `file:${target}` });
    expect((await copy.execute("SELECT id FROM webhooks")).rows.map((r) => r.id)).toEqual([
      webhookId,
    ]);
    copy.close();
  });

  test("a restore with the key file keeps webhooks working", async () => {
    const target = join(work, "restore-me.db");
    expect((await runCli(["backup", target], { env: { SIGILUM_DATA_DIR: t.dataDir } })).code).toBe(
      0,
    );
    const restored = join(work, "restored");
    mkdirSync(restored);
    copyFileSync(target, join(restored, "sigilum.db"));
    copyFileSync(`${target}.key`, join(restored, "secret.key"));
    const again = await startTestServer({ dataDir: restored, env: WEBHOOK_ENV });
    try {
      const owner = s.client;
      const res = await fetch(
        `${again.url}/v1/services/${s.serviceId}/webhooks/${webhookId}/test`,
        {
          method: "POST",
          headers: { cookie: `sigilum_session=${owner.cookie}`, origin: again.origin },
        },
      );
      expect(res.status).toBe(200);
      expect((await res.json()).success).toBe(true);
      const [got] = receiver.received.slice(-1);
      const check = verifyWebhookSignature({
        secret,
        header: got!.headers["x-sigilum-signature"]!,
        body: got!.body,
        toleranceSeconds: 300,
      });
      expect(check.ok).toBe(true);
    } finally {
      await again.close();
    }
  });

  test("a restore without the key file refuses to start and generates no key", async () => {
    const target = join(work, "keyless.db");
    expect((await runCli(["backup", target], { env: { SIGILUM_DATA_DIR: t.dataDir } })).code).toBe(
      0,
    );
    const restored = join(work, "keyless");
    mkdirSync(restored);
    copyFileSync(target, join(restored, "sigilum.db"));
    const res = await serveUntilExit(restored);
    expect(res.code).toBe(2);
    const lines = stderrLines(res).filter((l) => !l.includes('"level"'));
    expect(lines).toHaveLength(1);
    const keyId = new Bun.CryptoHasher("sha256")
      .update(Buffer.from(readFileSync(join(t.dataDir, "secret.key"), "utf8").trim(), "base64"))
      .digest("hex")
      .slice(0, 8);
    expect(lines[0]).toContain(keyId);
    expect(lines[0]).toContain("SIGILUM_SECRET_KEY");
    expect(lines[0]).toContain(join(restored, "secret.key"));
    expect(existsSync(join(restored, "secret.key"))).toBe(false);

    // A different key is refused the same way.
    const wrong = await serveUntilExit(restored, {
      SIGILUM_SECRET_KEY: Buffer.alloc(32, 7).toString("base64"),
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(keyId);
    expect(existsSync(join(restored, "secret.key"))).toBe(false);
  });

  test("with SIGILUM_SECRET_KEY no key file is written, and the output says so", async () => {
    const key = readFileSync(join(t.dataDir, "secret.key"), "utf8").trim();
    const target = join(work, "env-key.db");
    const res = await runCli(["backup", target], {
      env: { SIGILUM_DATA_DIR: t.dataDir, SIGILUM_SECRET_KEY: key },
    });
    expect(res.code).toBe(0);
    expect(existsSync(`${target}.key`)).toBe(false);
    expect(res.stdout).toContain("SIGILUM_SECRET_KEY");
  });

  test("refuses when <file>.key already exists, before writing anything", async () => {
    const target = join(work, "clash.db");
    writeFileSync(`${target}.key`, "not mine\n");
    const res = await runCli(["backup", target], { env: { SIGILUM_DATA_DIR: t.dataDir } });
    expect(res.code).toBe(1);
    expect(stderrLines(res)).toHaveLength(1);
    expect(res.stderr).toContain(`${target}.key already exists`);
    expect(existsSync(target)).toBe(false);
  });

  test("from a directory with no database it refuses (exit 2), names the path and creates nothing", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "sigilum-elsewhere-"));
    try {
      const res = await runCli(["backup", join(elsewhere, "b.db")], { cwd: elsewhere });
      expect(res.code).toBe(2);
      expect(stderrLines(res)).toHaveLength(1);
      expect(res.stderr).toContain(join(elsewhere, "data", "sigilum.db"));
      expect(res.stderr).not.toContain("backup written");
      expect(existsSync(join(elsewhere, "data"))).toBe(false);
      expect(existsSync(join(elsewhere, "b.db"))).toBe(false);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
