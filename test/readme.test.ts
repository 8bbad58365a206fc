import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newAgent, submitClaim } from "./helpers/agent.ts";
import { startReceiver } from "./helpers/receiver.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "./helpers/setup.ts";

/** The receiver code block of the README's "Receiving webhooks" section, as written. */
function readmeReceiverCode(): string {
  const readme = readFileSync(join(import.meta.dir, "../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Receiving webhooks"));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error("README has no receiver code block");
  return match[1]!;
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
    const hook = await s.client.post(`/v1/services/${s.serviceId}/webhooks`, {
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
    await submitClaim(t, await newAgent(s.namespace), s.apiKey, s.slug);
    const [got] = await receiver.waitFor(1);
    const header = got!.headers["x-sigilum-signature"]!;
    expect(verify(secret, header, got!.body)).toBe(true);
    expect(verify(secret, header, got!.body.replace("pending", "approved"))).toBe(false);
    expect(verify(`${secret}x`, header, got!.body)).toBe(false);
    const stale = header.replace(/t=\d+/, `t=${Math.floor(Date.now() / 1000) - 301}`);
    expect(verify(secret, stale, got!.body)).toBe(false);
  });
});
