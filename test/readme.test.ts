import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newAgent, submitClaim } from "./helpers/agent.ts";
import { startReceiver } from "./helpers/receiver.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "./helpers/setup.ts";
import type { ClaimSubmitted, WebhookCreated } from "./helpers/types.ts";

const REPO_ROOT = join(import.meta.dir, "..");

/** The first code block of the given language in a README section, as written. */
function readmeBlock(heading: string, language: string): string {
  const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
  const at = readme.indexOf(heading);
  if (at < 0) throw new Error(`README has no section ${heading}`);
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(readme.slice(at));
  if (!match) throw new Error(`README section ${heading} has no ${language} block`);
  return match[1]!;
}

/** The receiver code block of the README's "Receiving webhooks" section, as written. */
function readmeReceiverCode(): string {
  return readmeBlock("## Receiving webhooks", "ts");
}

describe("README receiver code", () => {
  let t: TestServer;
  let s: ServiceSetup;
  const receiver = startReceiver();
  const dir = mkdtempSync(join(tmpdir(), "sigilum-readme-"));
  let verify: (secret: string, header: string, body: string) => boolean;
  let secret = "";
  beforeAll(async () => {
    writeFileSync(join(dir, "receiver.ts"), readmeReceiverCode());
    verify = (await import(join(dir, "receiver.ts"))).verifySigilumWebhook;
    t = await startTestServer({
      env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" },
    });
    s = await ownerWithKey(t);
    const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `${receiver.url}/hook`,
    });
    secret = hook.body.secret;
  });
  afterAll(async () => {
    await t.close();
    receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("verifies a real delivery and refuses a tampered body or a wrong secret", async () => {
    await submitClaim<ClaimSubmitted>(t, await newAgent(s.namespace), s.apiKey, s.slug);
    const [got] = await receiver.waitFor(1);
    const header = got!.headers["x-sigilum-signature"]!;
    expect(verify(secret, header, got!.body)).toBe(true);
    expect(verify(secret, header, got!.body.replace("pending", "approved"))).toBe(false);
    expect(verify(`${secret}x`, header, got!.body)).toBe(false);
    const stale = header.replace(/t=\d+/, `t=${Math.floor(Date.now() / 1000) - 301}`);
    expect(verify(secret, stale, got!.body)).toBe(false);
  });
});

describe("README walk-through script", () => {
  let t: TestServer;
  const dir = mkdtempSync(join(tmpdir(), "sigilum-walkthrough-"));
  beforeAll(async () => {
    // No DNS here: the example webhook host stays unresolved (accepted; its deliveries fail fast).
    t = await startTestServer({
      resolveHost: async () => {
        throw new Error("no DNS in tests");
      },
    });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("runs whole, as pasted, against a real server: every status shown, ids captured", async () => {
    const script = join(dir, "walkthrough.sh");
    writeFileSync(script, readmeBlock("## Walk-through", "sh"));
    const proc = Bun.spawn(["bash", script], {
      cwd: REPO_ROOT,
      env: { ...process.env, SIGILUM_URL: t.url },
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 55_000);
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    clearTimeout(timer);
    expect({ code, err }).toEqual({ code: 0, err: "" });
    const lines = out.split("\n");
    const statuses = lines.filter((line) => /^\d{3}$/.test(line));
    // sign-up, service, key, webhook, claim, inbox, approve, verify ×2, token, services
    expect(statuses).toEqual([
      "201",
      "201",
      "201",
      "201",
      "201",
      "200",
      "200",
      "200",
      "200",
      "201",
      "200",
    ]);
    const inbox = lines.findIndex((line) => line.startsWith('{"claims":'));
    const approved = lines.findIndex((line) => line.includes('"status":"approved"'));
    expect(inbox).toBeGreaterThan(0);
    expect(lines[inbox]).toContain('"status":"pending"');
    expect(approved).toBeGreaterThan(inbox); // the pending list comes before the approval
    expect(lines.filter((line) => line.startsWith('{"authorized":true'))).toHaveLength(2);
    // Nothing lands in the repository (the cookie jar used to).
    expect(existsSync(join(REPO_ROOT, "jar"))).toBe(false);
  }, 60_000);
});
