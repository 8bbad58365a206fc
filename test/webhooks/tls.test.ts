/**
 * Delivery over real TLS (webhooks.md §4–§5): the server connects to the checked address
 * (127.0.0.1) while keeping the Host header and the TLS server name of the webhook's host, and
 * trusts SIGILUM_WEBHOOK_CA_FILE in addition to the system roots. Certificates are generated
 * here with openssl; `hooks.test` is resolved by an injected resolver, never by DNS.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  ClaimSubmitted,
  DeliveryDetail,
  WebhookCreated,
  WebhookTestResult,
} from "../helpers/types.ts";

const HOST = "hooks.test";
const OTHER = "other.test";
const resolveHost = async (h: string) => (h === HOST || h === OTHER ? ["127.0.0.1"] : []);

interface Pair {
  certFile: string;
  cert: string;
  key: string;
}

/** A self-signed P-256 certificate for `name` (CN and SAN), written to `dir`. */
async function selfSigned(dir: string, name: string): Promise<Pair> {
  const keyFile = join(dir, `${name}.key.pem`);
  const certFile = join(dir, `${name}.cert.pem`);
  const proc = Bun.spawn(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      `subjectAltName=DNS:${name}`,
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  const code = await proc.exited;
  if (code !== 0) throw new Error(`openssl failed: ${await new Response(proc.stderr).text()}`);
  return { certFile, cert: await Bun.file(certFile).text(), key: await Bun.file(keyFile).text() };
}

interface TlsReceived {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A real HTTPS receiver on 127.0.0.1 presenting `pair`. */
function tlsReceiver(pair: Pair) {
  const received: TlsReceived[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: pair.cert, key: pair.key },
    async fetch(request) {
      received.push({
        url: request.url,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
      });
      return new Response("ok");
    },
  });
  return { port: server.port!, received, stop: () => server.stop(true) };
}

/** What a receiver got for one delivery (each claim goes to every webhook of the service). */
function receivedFor(r: { received: TlsReceived[] }, deliveryId: string) {
  return r.received.filter((x) => x.headers["x-sigilum-delivery-id"] === deliveryId);
}

interface Hooked {
  t: TestServer;
  s: ServiceSetup;
}

async function serverWith(env: Record<string, string>): Promise<Hooked> {
  const t = await startTestServer({
    env: { SIGILUM_WEBHOOK_ALLOWED_CIDRS: "127.0.0.1/32", ...env },
    resolveHost,
  });
  return { t, s: await ownerWithKey(t) };
}

async function createWebhook(h: Hooked, port: number, host = HOST) {
  const res = await h.s.client.post<WebhookCreated>(`/v1/services/${h.s.serviceId}/webhooks`, {
    url: `https://${host}:${port}/hook`,
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; url: string };
}

/** Submits a claim, lets the worker finish, returns the webhook's delivery of it with attempts. */
async function deliverClaim(h: Hooked, webhookId: string) {
  const agent = await newAgent(h.s.namespace);
  const claim = await submitClaim<ClaimSubmitted>(h.t, agent, h.s.apiKey, h.s.slug);
  expect(claim.status).toBe(201);
  await h.t.server.ctx.deliveryWorker.drain();
  const rs = await h.t.server.ctx.database.client.execute({
    sql: `SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id
          WHERE e.claim_id = ? AND d.webhook_id = ?`,
    args: [claim.body.claim_id, webhookId],
  });
  expect(rs.rows).toHaveLength(1);
  const res = await h.s.client.get<DeliveryDetail>(
    `/v1/services/${h.s.serviceId}/webhooks/${webhookId}/deliveries/${rs.rows[0]!.id}`,
  );
  expect(res.status).toBe(200);
  return res.body;
}

let dir: string;
let good: Pair; // CN/SAN hooks.test
let other: Pair; // CN/SAN other.test
let bundleFile: string; // both certificates
let goodReceiver: ReturnType<typeof tlsReceiver>;
let otherReceiver: ReturnType<typeof tlsReceiver>;
const servers: TestServer[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sigilum-tls-"));
  [good, other] = await Promise.all([selfSigned(dir, HOST), selfSigned(dir, OTHER)]);
  bundleFile = join(dir, "bundle.pem");
  await Bun.write(bundleFile, `${good.cert}\n${other.cert}`);
  goodReceiver = tlsReceiver(good);
  otherReceiver = tlsReceiver(other);
});

afterAll(async () => {
  await Promise.all(servers.map((t) => t.close()));
  goodReceiver?.stop();
  otherReceiver?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("https webhook with SIGILUM_WEBHOOK_CA_FILE", () => {
  let h: Hooked;
  beforeAll(async () => {
    h = await serverWith({ SIGILUM_WEBHOOK_CA_FILE: good.certFile });
    servers.push(h.t);
  });

  test("http:// stays refused (ALLOW_HTTP is not set)", async () => {
    const res = await h.s.client.post<ApiErrorBody>(`/v1/services/${h.s.serviceId}/webhooks`, {
      url: `http://${HOST}:${goodReceiver.port}/hook`,
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("INVALID_WEBHOOK_URL");
  });

  test("a claim's delivery arrives over TLS with Host = hooks.test:<port> and a valid signature", async () => {
    const hook = await createWebhook(h, goodReceiver.port);
    const d = await deliverClaim(h, hook.id);
    expect(d.status).toBe("succeeded");
    expect(d.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status_code: 200, error: null }),
    ]);
    const copies = receivedFor(goodReceiver, d.id);
    expect(copies).toHaveLength(1);
    const got = copies[0]!;
    // The receiver only speaks TLS; the request really came over it.
    expect(new URL(got.url).protocol).toBe("https:");
    expect(got.headers.host).toBe(`${HOST}:${goodReceiver.port}`);
    const header = got.headers["x-sigilum-signature"]!;
    const t = header.split(",")[0]!.slice(2);
    const expected = createHmac("sha256", hook.secret).update(`${t}.${got.body}`).digest("hex");
    expect(header.split(",")).toContain(`v1=${expected}`);
    expect(JSON.parse(got.body)).toMatchObject({ event: "request.submitted" });
  });

  test("the test endpoint reaches the TLS receiver too", async () => {
    const hook = await createWebhook(h, goodReceiver.port);
    const res = await h.s.client.post<WebhookTestResult>(
      `/v1/services/${h.s.serviceId}/webhooks/${hook.id}/test`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ success: true, status_code: 200 });
  });

  test("a receiver presenting an untrusted certificate (other.test, not in the CA file) → tls_error", async () => {
    const hook = await createWebhook(h, otherReceiver.port);
    const d = await deliverClaim(h, hook.id);
    expect(d.status).toBe("pending");
    expect(d.last_error).toBe("tls_error");
    expect(d.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status_code: null, error: "tls_error" }),
    ]);
    expect(receivedFor(otherReceiver, d.id)).toHaveLength(0);
  });
});

describe("https webhook without SIGILUM_WEBHOOK_CA_FILE", () => {
  test("the self-signed receiver is not trusted → the attempt fails with tls_error", async () => {
    const h = await serverWith({});
    servers.push(h.t);
    const hook = await createWebhook(h, goodReceiver.port);
    const d = await deliverClaim(h, hook.id);
    expect(d.status).toBe("pending");
    expect(d.attempt_count).toBe(1);
    expect(d.last_error).toBe("tls_error");
    expect(d.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status_code: null, error: "tls_error" }),
    ]);
    const res = await h.s.client.post<WebhookTestResult>(
      `/v1/services/${h.s.serviceId}/webhooks/${hook.id}/test`,
    );
    expect(res.body).toMatchObject({ success: false, error: "tls_error" });
    expect(receivedFor(goodReceiver, d.id)).toHaveLength(0);
  });
});

describe("a trusted certificate for another name", () => {
  test("CA file trusts other.test's certificate, but it does not name hooks.test → tls_error", async () => {
    const h = await serverWith({ SIGILUM_WEBHOOK_CA_FILE: bundleFile });
    servers.push(h.t);
    // Controls: with the bundle, both certificates verify for their own names, so what fails
    // below is the name check alone.
    const ok = await createWebhook(h, goodReceiver.port);
    expect((await deliverClaim(h, ok.id)).status).toBe("succeeded");
    const otherOk = await createWebhook(h, otherReceiver.port, OTHER);
    const viaOther = await deliverClaim(h, otherOk.id);
    expect(viaOther.status).toBe("succeeded");
    expect(receivedFor(otherReceiver, viaOther.id).map((r) => r.headers.host)).toEqual([
      `${OTHER}:${otherReceiver.port}`,
    ]);
    // Same host name, but the receiver presents the (trusted) other.test certificate.
    const hook = await createWebhook(h, otherReceiver.port);
    const d = await deliverClaim(h, hook.id);
    expect(d.status).toBe("pending");
    expect(d.last_error).toBe("tls_error");
    expect(d.attempts[0]).toMatchObject({ attempt: 1, status_code: null, error: "tls_error" });
    expect(receivedFor(otherReceiver, d.id)).toHaveLength(0);
  });
});
