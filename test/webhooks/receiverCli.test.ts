/**
 * The receiver side (webhooks.md §3): `sigilum webhook verify` checks a real captured delivery the
 * way a receiver would, and the README's receiver — nothing but node:crypto — accepts our
 * deliveries. The CLI runs as a real child process (async, so the in-process server keeps serving).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { type Received, startReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { ClaimSubmitted, WebhookCreated } from "../helpers/types.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..");

// Each CLI run is a real process; on a busy 2-core machine some tests take more than 5 s.

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const proc = Bun.spawn([process.execPath, "src/main.ts", ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

// The README's receiver, verbatim: nothing but node:crypto.
/** true when `header` (X-Sigilum-Signature) signs `rawBody` with `secret` and is at most 5 minutes old. */
function verifySigilumWebhook(secret: string, header: string, rawBody: string): boolean {
  const parts = header.split(",").map((p) => p.trim());
  const timestamp = Number(parts.find((p) => p.startsWith("t="))?.slice(2));
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > 300) return false;
  const payload = `${timestamp}.${rawBody}`;
  const expected = createHmac("sha256", secret).update(payload).digest("hex");
  return parts
    .filter((p) => p.startsWith("v1="))
    .some(
      (p) =>
        p.length === expected.length + 3 &&
        timingSafeEqual(Buffer.from(p.slice(3)), Buffer.from(expected)),
    );
}

/** A node:http receiver that answers 204 when verifySigilumWebhook accepts, else 401. */
function startNodeReceiver() {
  const secrets = new Map<string, string>(); // path → secret
  const verdicts: { path: string; deliveryId: string; valid: boolean }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const header = String(req.headers["x-sigilum-signature"] ?? "");
      const valid = verifySigilumWebhook(secrets.get(req.url ?? "") ?? "", header, raw);
      verdicts.push({
        path: req.url ?? "",
        deliveryId: String(req.headers["x-sigilum-delivery-id"]),
        valid,
      });
      res.statusCode = valid ? 204 : 401;
      res.end();
    });
  });
  const listening = new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
  return {
    secrets,
    verdicts,
    listening,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let t: TestServer;
let s: ServiceSetup;
let dir: string;
const receiver = startReceiver();
const nodeReceiver = startNodeReceiver();
let secret = "";
let captured: Received;
let bodyFile: string;
let header: string;

async function deliveryFor(webhookId: string, claimId: string) {
  const rs = await t.server.ctx.database.client.execute({
    sql: `SELECT d.id, d.status, d.last_status_code FROM deliveries d
          JOIN events e ON e.id = d.event_id WHERE e.claim_id = ? AND d.webhook_id = ?`,
    args: [claimId, webhookId],
  });
  expect(rs.rows).toHaveLength(1);
  const row = rs.rows[0]!;
  return { id: String(row.id), status: String(row.status), code: row.last_status_code };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sigilum-verify-"));
  t = await startTestServer({
    env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" },
  });
  s = await ownerWithKey(t);
  const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
    url: `${receiver.url}/hook`,
  });
  expect(hook.status).toBe(201);
  secret = hook.body.secret;
  const agent = await newAgent(s.namespace);
  expect((await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug)).status).toBe(201);
  await t.server.ctx.deliveryWorker.drain();
  const [got] = await receiver.waitFor(1);
  if (!got) throw new Error("no delivery captured");
  captured = got;
  header = got.headers["x-sigilum-signature"]!;
  bodyFile = join(dir, "body.json");
  await Bun.write(bodyFile, got.body);
});

afterAll(async () => {
  await t?.close();
  receiver.stop();
  await nodeReceiver.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("sigilum webhook verify", () => {
  test("a real captured delivery verifies: exit 0, prints valid", async () => {
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const r = await cli([
      "webhook",
      "verify",
      "--secret",
      secret,
      "--header",
      header,
      "--body-file",
      bodyFile,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^valid \(t=\d+\)/);
    expect(r.stdout).toContain(`t=${header.split(",")[0]!.slice(2)}`);
  });

  test("the secret may come from SIGILUM_WEBHOOK_SECRET, the header with its name prefix", async () => {
    const r = await cli(
      ["webhook", "verify", "--header", `X-Sigilum-Signature: ${header}`, "--body-file", bodyFile],
      { SIGILUM_WEBHOOK_SECRET: secret },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^valid/);
  });

  test("a tampered body → exit 1, invalid", async () => {
    const tampered = join(dir, "tampered.json");
    await Bun.write(tampered, captured.body.replace('"pending"', '"approved"'));
    expect(await Bun.file(tampered).text()).not.toBe(captured.body);
    const r = await cli([
      "webhook",
      "verify",
      "--secret",
      secret,
      "--header",
      header,
      "--body-file",
      tampered,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid: no signature matches/);
  });

  test("one extra byte in the body → exit 1", async () => {
    const extra = join(dir, "extra.json");
    await Bun.write(extra, `${captured.body}\n`);
    const r = await cli([
      "webhook",
      "verify",
      "--secret",
      secret,
      "--header",
      header,
      "--body-file",
      extra,
    ]);
    expect(r.code).toBe(1);
  });

  test("the wrong secret → exit 1", async () => {
    const r = await cli([
      "webhook",
      "verify",
      "--secret",
      `whsec_${Buffer.alloc(32, 7).toString("base64")}`,
      "--header",
      header,
      "--body-file",
      bodyFile,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid/);
  });

  test("a stale timestamp → exit 1, though the signature over it is right", async () => {
    const old = Math.floor(Date.now() / 1000) - 3600;
    const sig = createHmac("sha256", secret).update(`${old}.${captured.body}`).digest("hex");
    const staleHeader = `t=${old},v1=${sig}`;
    const r = await cli([
      "webhook",
      "verify",
      "--secret",
      secret,
      "--header",
      staleHeader,
      "--body-file",
      bodyFile,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^invalid: timestamp \d+ is outside the tolerance/);
    // Control: the same header within a wide enough tolerance is valid (only the age failed).
    const wide = await cli([
      "webhook",
      "verify",
      "--secret",
      secret,
      "--header",
      staleHeader,
      "--body-file",
      bodyFile,
      "--tolerance",
      "7200",
    ]);
    expect(wide.code).toBe(0);
  });

  test("--tolerance 0 rejects the real header once a second has passed", async () => {
    const t0 = Number(header.split(",")[0]!.slice(2));
    while (Date.now() / 1000 < t0 + 1.1) await Bun.sleep(50);
    const r = await cli([
      "webhook",
      "verify",
      "--secret",
      secret,
      "--header",
      header,
      "--body-file",
      bodyFile,
      "--tolerance",
      "0",
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/outside the tolerance/);
  });

  test("usage errors exit 2 and print the usage", async () => {
    const cases = [
      ["webhook", "verify", "--secret", secret, "--header", header], // no --body-file
      ["webhook", "verify", "--header", header, "--body-file", bodyFile], // no secret anywhere
      ["webhook", "verify", "--secret", secret, "--body-file", bodyFile], // no --header
      ["webhook"], // no subcommand
      ["webhook", "sign", "--secret", secret],
      [
        "webhook",
        "verify",
        "--secret",
        secret,
        "--header",
        header,
        "--body-file",
        bodyFile,
        "--tolerance=-1", // a value starting with "-" must be attached with "="
      ],
    ];
    const results = await Promise.all(cases.map((args) => cli(args)));
    results.forEach((r, i) => {
      expect({ i, code: r.code }).toEqual({ i, code: 2 });
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^sigilum: /);
    });
    expect(results[0]!.stderr).toContain(
      "sigilum webhook verify --secret S --header H --body-file F",
    );
    expect(results[5]!.stderr).toContain("--tolerance must be a whole number");
  });

  test("--help prints the usage and exits 0", async () => {
    for (const args of [
      ["webhook", "--help"],
      ["webhook", "verify", "--help"],
      ["webhook", "-h"],
    ]) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("sigilum webhook verify --secret S --header H --body-file F");
      expect(r.stdout).toContain("--tolerance");
    }
    const top = await cli(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain("sigilum webhook verify --secret S --header H --body-file F");
  });
});

describe("the README receiver (node:crypto only)", () => {
  test("verifies a real delivery and the server records the 2xx; a wrong secret answers 401", async () => {
    const port = await nodeReceiver.listening;
    const good = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `http://127.0.0.1:${port}/good`,
    });
    const wrong = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `http://127.0.0.1:${port}/wrong`,
    });
    expect(good.status).toBe(201);
    expect(wrong.status).toBe(201);
    nodeReceiver.secrets.set("/good", good.body.secret);
    nodeReceiver.secrets.set("/wrong", secret); // another webhook's secret
    const agent = await newAgent(s.namespace);
    const claim = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
    expect(claim.status).toBe(201);
    await t.server.ctx.deliveryWorker.drain();

    const ok = await deliveryFor(good.body.id, claim.body.claim_id);
    expect(ok).toMatchObject({ status: "succeeded", code: 204 });
    const refused = await deliveryFor(wrong.body.id, claim.body.claim_id);
    expect(refused).toMatchObject({ status: "pending", code: 401 });
    expect(nodeReceiver.verdicts).toEqual(
      expect.arrayContaining([
        { path: "/good", deliveryId: ok.id, valid: true },
        { path: "/wrong", deliveryId: refused.id, valid: false },
      ]),
    );
    expect(nodeReceiver.verdicts).toHaveLength(2);
  });

  test("the README function rejects the captured delivery when tampered or stale", () => {
    expect(verifySigilumWebhook(secret, header, captured.body)).toBe(true);
    expect(verifySigilumWebhook(secret, header, `${captured.body} `)).toBe(false);
    const old = Math.floor(Date.now() / 1000) - 301;
    const sig = createHmac("sha256", secret).update(`${old}.${captured.body}`).digest("hex");
    expect(verifySigilumWebhook(secret, `t=${old},v1=${sig}`, captured.body)).toBe(false);
  });
});
