import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import pkg from "../../package.json";
import { expirePendingClaims } from "../../src/claims/lifecycle.ts";
import { verifyWebhookSignature } from "../../src/index.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { type Received, startReceiver } from "../helpers/receiver.ts";
import { ManualClock, startTestServer, type TestServer, uniqueName } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiKeyCreated,
  Claim,
  ClaimSubmitted,
  DeliveryList,
  Policy,
  RotatedSecret,
  Service,
  Webhook,
  WebhookCreated,
} from "../helpers/types.ts";

// webhooks.md §2 (payload) and §3 (headers and signatures), end to end: a real server with a
// ManualClock, real HTTP to a real loopback receiver, a real libSQL file.

const ENV = { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" };
const BASE_DATA_KEYS = ["agent_key", "claim_id", "namespace", "public_key", "service", "status"];
const EVT_RE = /^evt_[0-9A-Za-z]{24}$/;
const DLV_RE = /^dlv_[0-9A-Za-z]{24}$/;
const SIG_RE = /^t=(\d+)(,v1=[0-9a-f]{64})+$/;

/** A receiver written ONLY from the seed page: its snippet, applied to each v1 of the header. */
function seedReceiverVerifies(webhookSecret: string, header: string, requestBody: string): boolean {
  const parts = header.split(",");
  const timestamp = parts.find((p) => p.startsWith("t="))?.slice(2);
  const payload = `${timestamp}.${requestBody}`;
  const expectedSignature = createHmac("sha256", webhookSecret).update(payload).digest("hex");
  return parts.some((p) => p === `v1=${expectedSignature}`);
}

/** Standard Webhooks, computed here independently of src/webhooks/signature.ts. */
function standardSignature(secret: string, id: string, ts: string, body: string): string {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64");
}

const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/** did:key of an `ed25519:<base64>` key (multicodec 0xed01 + raw key, base58btc), computed here. */
function didKeyOf(publicKey: string): string {
  const raw = Buffer.from(publicKey.slice("ed25519:".length), "base64");
  expect(raw.length).toBe(32);
  const bytes = Buffer.concat([Buffer.from([0xed, 0x01]), raw]);
  let n = BigInt(`0x${bytes.toString("hex")}`);
  let out = "";
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  return `did:key:z${out}`;
}

function sigParts(header: string) {
  const parts = header.split(",");
  return {
    t: Number(parts[0]!.slice(2)),
    v1: parts.filter((p) => p.startsWith("v1=")).map((p) => p.slice(3)),
  };
}

const clock = new ManualClock();
let t: TestServer;
let s: ServiceSetup;

beforeAll(async () => {
  t = await startTestServer({ clock, env: ENV });
  s = await ownerWithKey(t);
});
afterAll(async () => {
  await t.close();
});

const drain = () => t.server.ctx.deliveryWorker.drain();
const isoNow = () => new Date(clock.now()).toISOString();

interface Svc {
  serviceId: string;
  slug: string;
  apiKey: string;
}

/** A fresh service (with an API key) of the same owner, so each scenario has its own webhooks. */
async function freshService(): Promise<Svc> {
  const slug = uniqueName("pay");
  const svc = await s.client.post<Service>("/v1/services", { slug, name: "Payloads" });
  expect(svc.status).toBe(201);
  const key = await s.client.post<ApiKeyCreated>(`/v1/services/${svc.body.id}/keys`);
  expect(key.status).toBe(201);
  return { serviceId: svc.body.id, slug, apiKey: key.body.key };
}

async function createHook(svc: Svc, url: string, events?: string[]) {
  const res = await s.client.post<WebhookCreated>(`/v1/services/${svc.serviceId}/webhooks`, {
    url,
    ...(events ? { events } : {}),
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; events: string[] };
}

async function submit(svc: Svc, extra: Record<string, unknown> = {}) {
  const agent = await newAgent(s.namespace, clock.now());
  const res = await submitClaim<ClaimSubmitted>(t, agent, svc.apiKey, svc.slug, extra, {
    created: Math.floor(clock.now() / 1000),
  });
  expect(res.status).toBe(201);
  return { agent, claim: res.body };
}

function parse(r: Received) {
  return JSON.parse(r.body);
}

/** Every header of webhooks.md §3, every signature checked independently; returns the payload. */
function expectSignedDelivery(r: Received, secret: string, event: string) {
  const body = parse(r);
  const h = r.headers;
  expect(h["content-type"]).toBe("application/json");
  expect(h["user-agent"]).toBe(`Sigilum-Webhooks/${pkg.version}`);
  expect(h["x-sigilum-event"]).toBe(event);
  expect(body.event).toBe(event);
  expect(h["x-sigilum-event-id"]).toBe(body.id);
  expect(body.id).toMatch(EVT_RE);
  expect(h["x-sigilum-delivery-id"]).toMatch(DLV_RE);
  expect(h["x-sigilum-attempt"]).toBe("1");
  const sig = h["x-sigilum-signature"]!;
  expect(sig).toMatch(SIG_RE);
  const { t: ts, v1 } = sigParts(sig);
  expect(v1).toHaveLength(1);
  // `t` is the time of this attempt: the ManualClock did not move since the event.
  expect(ts).toBe(Math.floor(clock.now() / 1000));
  expect(h["webhook-id"]).toBe(body.id);
  expect(h["webhook-timestamp"]).toBe(String(ts));
  expect(h["webhook-signature"]).toBe(
    `v1,${standardSignature(secret, body.id, String(ts), r.body)}`,
  );
  expect(v1[0]).toBe(createHmac("sha256", secret).update(`${ts}.${r.body}`).digest("hex"));
  // The seed-page receiver accepts it; a tampered body or another secret does not.
  expect(seedReceiverVerifies(secret, sig, r.body)).toBe(true);
  expect(seedReceiverVerifies(secret, sig, r.body.replace('"data"', '"data" '))).toBe(false);
  expect(seedReceiverVerifies(`${secret}x`, sig, r.body)).toBe(false);
  // The library helper: fresh → ok; the same delivery replayed 5 min + 1 s later → rejected.
  expect(verifyWebhookSignature({ secret, header: sig, body: r.body, nowMs: clock.now() })).toEqual(
    { ok: true, timestamp: ts },
  );
  expect(
    verifyWebhookSignature({ secret, header: sig, body: r.body, nowMs: ts * 1000 + 301_000 }).ok,
  ).toBe(false);
  expect(Buffer.byteLength(r.body)).toBeLessThan(20 * 1024);
  return body;
}

/** Top-level keys exactly {id, event, timestamp, data}; data keys exactly base + `optional`. */
function expectPayloadShape(body: Record<string, unknown>, optional: string[] = []) {
  expect(Object.keys(body).sort()).toEqual(["data", "event", "id", "timestamp"]);
  expect(Object.keys(body.data as object).sort()).toEqual([...BASE_DATA_KEYS, ...optional].sort());
}

function byEvent(rx: { received: Received[] }, event: string) {
  return rx.received.filter((r) => r.headers["x-sigilum-event"] === event);
}

describe("payloads of the five events (webhooks.md §2) with the headers of §3", () => {
  test("request.submitted: exact keys; optional fields present when given, omitted when not", async () => {
    const rx = startReceiver();
    try {
      const svc = await freshService();
      const hook = await createHook(svc, `${rx.url}/submitted`);
      const bare = await submit(svc);
      const atBare = isoNow();
      await drain();
      expect(rx.received).toHaveLength(1);
      const b1 = expectSignedDelivery(rx.received[0]!, hook.secret, "request.submitted");
      expectPayloadShape(b1);
      expect(b1).toEqual({
        id: b1.id,
        event: "request.submitted",
        timestamp: atBare,
        data: {
          claim_id: bare.claim.claim_id,
          namespace: s.namespace,
          service: svc.slug,
          agent_key: didKeyOf(bare.agent.publicKey),
          public_key: bare.agent.publicKey,
          status: "pending",
        },
      });
      expect(b1.data.agent_key).toMatch(/^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]+$/);
      expect(b1.data.agent_key).toBe(bare.claim.agent_key);
      expect(b1.data.public_key).toMatch(/^ed25519:[A-Za-z0-9+/]{43}=$/);

      clock.advance(1_000);
      const full = await submit(svc, {
        subject: "user-42",
        agent_id: "agent-7",
        agent_name: "Build Bot",
      });
      await drain();
      expect(rx.received).toHaveLength(2);
      const b2 = expectSignedDelivery(rx.received[1]!, hook.secret, "request.submitted");
      expectPayloadShape(b2, ["subject", "agent_id", "agent_name"]);
      expect(b2.timestamp).toBe(isoNow());
      expect(b2.data).toMatchObject({
        claim_id: full.claim.claim_id,
        subject: "user-42",
        agent_id: "agent-7",
        agent_name: "Build Bot",
        status: "pending",
      });
      expect(b2.id).not.toBe(b1.id);
    } finally {
      rx.stop();
    }
  });

  test("request.approved by the owner: status approved, no auto_approved, no reason", async () => {
    const rx = startReceiver();
    try {
      const svc = await freshService();
      const hook = await createHook(svc, `${rx.url}/approved`);
      const { agent, claim } = await submit(svc);
      await drain();
      clock.advance(2_000);
      const approved = await s.client.post<Claim>(`/v1/claims/${claim.claim_id}/approve`);
      expect(approved.status).toBe(200);
      await drain();
      expect(rx.received).toHaveLength(2);
      const [r] = byEvent(rx, "request.approved");
      const body = expectSignedDelivery(r!, hook.secret, "request.approved");
      expectPayloadShape(body);
      expect(body.timestamp).toBe(isoNow());
      expect(body.data).toEqual({
        claim_id: claim.claim_id,
        namespace: s.namespace,
        service: svc.slug,
        agent_key: didKeyOf(agent.publicKey),
        public_key: agent.publicKey,
        status: "approved",
      });
    } finally {
      rx.stop();
    }
  });

  test("request.approved automatically (namespace policy): auto_approved true, after request.submitted", async () => {
    const rx = startReceiver();
    try {
      const svc = await freshService();
      const hook = await createHook(svc, `${rx.url}/auto`);
      const policy = await s.client.put<Policy>(`/v1/namespaces/${s.namespace}/policy`, {
        auto_approve_services: [svc.slug],
      });
      expect(policy.status).toBe(200);
      try {
        const agent = await newAgent(s.namespace, clock.now());
        const res = await submitClaim<ClaimSubmitted>(
          t,
          agent,
          svc.apiKey,
          svc.slug,
          { agent_name: "Auto Bot" },
          { created: Math.floor(clock.now() / 1000) },
        );
        expect(res.status).toBe(201);
        expect(res.body.status).toBe("approved");
        await drain();
        expect(rx.received).toHaveLength(2);
        const [sub] = byEvent(rx, "request.submitted");
        const [app] = byEvent(rx, "request.approved");
        const submitted = expectSignedDelivery(sub!, hook.secret, "request.submitted");
        const approved = expectSignedDelivery(app!, hook.secret, "request.approved");
        expectPayloadShape(submitted, ["agent_name"]);
        expectPayloadShape(approved, ["agent_name", "auto_approved"]);
        expect(submitted.data.status).toBe("pending");
        expect(approved.data).toEqual({
          claim_id: res.body.claim_id,
          namespace: s.namespace,
          service: svc.slug,
          agent_key: didKeyOf(agent.publicKey),
          public_key: agent.publicKey,
          status: "approved",
          agent_name: "Auto Bot",
          auto_approved: true,
        });
        expect(approved.id).not.toBe(submitted.id);
      } finally {
        const reset = await s.client.put<Policy>(`/v1/namespaces/${s.namespace}/policy`, {
          auto_approve_services: [],
        });
        expect(reset.status).toBe(200);
      }
    } finally {
      rx.stop();
    }
  });

  test("request.rejected by the owner carries the reason", async () => {
    const rx = startReceiver();
    try {
      const svc = await freshService();
      const hook = await createHook(svc, `${rx.url}/rejected`);
      const { agent, claim } = await submit(svc, { subject: "s-1" });
      await drain();
      clock.advance(3_000);
      const rejected = await s.client.post<Claim>(`/v1/claims/${claim.claim_id}/reject`, {
        reason: "unknown agent",
      });
      expect(rejected.status).toBe(200);
      await drain();
      const [r] = byEvent(rx, "request.rejected");
      const body = expectSignedDelivery(r!, hook.secret, "request.rejected");
      expectPayloadShape(body, ["subject", "reason"]);
      expect(body.timestamp).toBe(isoNow());
      expect(body.data).toEqual({
        claim_id: claim.claim_id,
        namespace: s.namespace,
        service: svc.slug,
        agent_key: didKeyOf(agent.publicKey),
        public_key: agent.publicKey,
        status: "rejected",
        subject: "s-1",
        reason: "unknown agent",
      });
    } finally {
      rx.stop();
    }
  });

  test("request.revoked after approval, with the revoke reason", async () => {
    const rx = startReceiver();
    try {
      const svc = await freshService();
      const hook = await createHook(svc, `${rx.url}/revoked`);
      const { agent, claim } = await submit(svc);
      expect((await s.client.post<Claim>(`/v1/claims/${claim.claim_id}/approve`)).status).toBe(200);
      await drain();
      clock.advance(4_000);
      const revoked = await s.client.post<Claim>(`/v1/claims/${claim.claim_id}/revoke`, {
        reason: "key compromised",
      });
      expect(revoked.status).toBe(200);
      await drain();
      expect(rx.received.map((r) => r.headers["x-sigilum-event"]).sort()).toEqual([
        "request.approved",
        "request.revoked",
        "request.submitted",
      ]);
      const [r] = byEvent(rx, "request.revoked");
      const body = expectSignedDelivery(r!, hook.secret, "request.revoked");
      expectPayloadShape(body, ["reason"]);
      expect(body.timestamp).toBe(isoNow());
      expect(body.data).toEqual({
        claim_id: claim.claim_id,
        namespace: s.namespace,
        service: svc.slug,
        agent_key: didKeyOf(agent.publicKey),
        public_key: agent.publicKey,
        status: "revoked",
        reason: "key compromised",
      });
    } finally {
      rx.stop();
    }
  });
});

describe("routing: the claim's service, subscribers only, enabled only", () => {
  test("events reach only the webhooks of the claim's service that subscribe to them", async () => {
    const rx = startReceiver();
    try {
      const a = await freshService();
      const b = await freshService();
      const allOfA = await createHook(a, `${rx.url}/a-all`);
      const approvedOnlyOfA = await createHook(a, `${rx.url}/a-approved`, ["request.approved"]);
      const allOfB = await createHook(b, `${rx.url}/b-all`);
      const disabledOfA = await createHook(a, `${rx.url}/a-disabled`);
      const off = await s.client.patch<Webhook>(
        `/v1/services/${a.serviceId}/webhooks/${disabledOfA.id}`,
        {
          enabled: false,
        },
      );
      expect(off.status).toBe(200);
      expect(allOfA.events).toEqual([
        "request.submitted",
        "request.approved",
        "request.rejected",
        "request.revoked",
      ]);

      const { claim } = await submit(a);
      await drain();
      const approved = await s.client.post<Claim>(`/v1/claims/${claim.claim_id}/approve`);
      expect(approved.status).toBe(200);
      await drain();

      // Who got what, by the secret that signs it (each webhook has its own).
      const to = (secret: string) =>
        rx.received
          .filter((r) => seedReceiverVerifies(secret, r.headers["x-sigilum-signature"]!, r.body))
          .map((r) => r.headers["x-sigilum-event"]);
      expect(rx.received).toHaveLength(3);
      expect(to(allOfA.secret).sort()).toEqual(["request.approved", "request.submitted"]);
      expect(to(approvedOnlyOfA.secret)).toEqual(["request.approved"]);
      expect(to(allOfB.secret)).toEqual([]);
      expect(to(disabledOfA.secret)).toEqual([]);
      for (const r of rx.received) expect(parse(r).data.service).toBe(a.slug);

      // Nothing was even queued for the disabled webhook or the other service's webhook.
      for (const [svc, id] of [
        [a, disabledOfA.id],
        [b, allOfB.id],
      ] as const) {
        const list = await s.client.get<DeliveryList>(
          `/v1/services/${svc.serviceId}/webhooks/${id}/deliveries`,
        );
        expect(list.status).toBe(200);
        expect(list.body.pagination.total).toBe(0);
      }
    } finally {
      rx.stop();
    }
  });
});

describe("secret rotation", () => {
  test("grace 3600 s: two v1 values (new and old both verify); after the grace only the new one", async () => {
    const rx = startReceiver();
    try {
      const svc = await freshService();
      const hook = await createHook(svc, `${rx.url}/rotate`);
      const oldSecret = hook.secret;
      const rotated = await s.client.post<RotatedSecret>(
        `/v1/services/${svc.serviceId}/webhooks/${hook.id}/rotate-secret`,
        { grace_seconds: 3600 },
      );
      expect(rotated.status).toBe(200);
      const newSecret: string = rotated.body.secret;
      expect(newSecret).not.toBe(oldSecret);
      expect(rotated.body.previous_secret_expires_at).toBe(
        new Date(clock.now() + 3_600_000).toISOString(),
      );

      await submit(svc);
      await drain();
      expect(rx.received).toHaveLength(1);
      const during = rx.received[0]!;
      const sig = during.headers["x-sigilum-signature"]!;
      const { t: ts, v1 } = sigParts(sig);
      expect(sig).toMatch(SIG_RE);
      expect(v1).toHaveLength(2);
      expect(v1[0]).toBe(
        createHmac("sha256", newSecret).update(`${ts}.${during.body}`).digest("hex"),
      );
      expect(v1[1]).toBe(
        createHmac("sha256", oldSecret).update(`${ts}.${during.body}`).digest("hex"),
      );
      expect(seedReceiverVerifies(oldSecret, sig, during.body)).toBe(true);
      expect(seedReceiverVerifies(newSecret, sig, during.body)).toBe(true);
      for (const secret of [oldSecret, newSecret]) {
        expect(
          verifyWebhookSignature({ secret, header: sig, body: during.body, nowMs: clock.now() }).ok,
        ).toBe(true);
      }
      const id = during.headers["webhook-id"]!;
      expect(during.headers["webhook-signature"]).toBe(
        [
          `v1,${standardSignature(newSecret, id, String(ts), during.body)}`,
          `v1,${standardSignature(oldSecret, id, String(ts), during.body)}`,
        ].join(" "),
      );

      clock.advance(3_600_000 + 1_000);
      await submit(svc);
      await drain();
      expect(rx.received).toHaveLength(2);
      const after = rx.received[1]!;
      const sig2 = after.headers["x-sigilum-signature"]!;
      expect(sigParts(sig2).v1).toHaveLength(1);
      expect(seedReceiverVerifies(newSecret, sig2, after.body)).toBe(true);
      expect(seedReceiverVerifies(oldSecret, sig2, after.body)).toBe(false);
      expect(
        verifyWebhookSignature({
          secret: oldSecret,
          header: sig2,
          body: after.body,
          nowMs: clock.now(),
        }).ok,
      ).toBe(false);
      expectSignedDelivery(after, newSecret, "request.submitted");
    } finally {
      rx.stop();
    }
  });

  test("a retry after a rotation (grace 0) is signed with the new secret only", async () => {
    const rx = startReceiver((_r, i) => new Response("no", { status: i === 0 ? 500 : 200 }));
    try {
      const svc = await freshService();
      const hook = await createHook(svc, `${rx.url}/rotate-retry`);
      await submit(svc);
      await drain();
      expect(rx.received).toHaveLength(1);
      expect(
        seedReceiverVerifies(
          hook.secret,
          rx.received[0]!.headers["x-sigilum-signature"]!,
          rx.received[0]!.body,
        ),
      ).toBe(true);
      const rotated = await s.client.post<RotatedSecret>(
        `/v1/services/${svc.serviceId}/webhooks/${hook.id}/rotate-secret`,
        { grace_seconds: 0 },
      );
      expect(rotated.status).toBe(200);
      expect(rotated.body.previous_secret_expires_at).toBeNull();
      clock.advance(6_000);
      await drain();
      expect(rx.received).toHaveLength(2);
      const retry = rx.received[1]!;
      expect(retry.headers["x-sigilum-attempt"]).toBe("2");
      expect(retry.body).toBe(rx.received[0]!.body);
      const sig = retry.headers["x-sigilum-signature"]!;
      expect(sigParts(sig).v1).toHaveLength(1);
      expect(seedReceiverVerifies(rotated.body.secret, sig, retry.body)).toBe(true);
      expect(seedReceiverVerifies(hook.secret, sig, retry.body)).toBe(false);
    } finally {
      rx.stop();
    }
  });
});

describe("verifyWebhookSignature (library export)", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw5M8Y2gYq2hM=";
  const body = '{"id":"evt_x","event":"request.approved"}';
  const now = Date.parse("2026-03-04T12:00:00.000Z");
  const ts = Math.floor(now / 1000);
  const hex = (key: string, at: number, b: string) =>
    createHmac("sha256", key).update(`${at}.${b}`).digest("hex");
  const header = (at: number, ...sigs: string[]) =>
    [`t=${at}`, ...sigs.map((v) => `v1=${v}`)].join(",");

  test("valid → ok with the timestamp", () => {
    expect(
      verifyWebhookSignature({
        secret,
        header: header(ts, hex(secret, ts, body)),
        body,
        nowMs: now,
      }),
    ).toEqual({ ok: true, timestamp: ts });
  });

  test("tampered body, wrong secret → rejected", () => {
    const h = header(ts, hex(secret, ts, body));
    expect(verifyWebhookSignature({ secret, header: h, body: `${body} `, nowMs: now }).ok).toBe(
      false,
    );
    expect(verifyWebhookSignature({ secret: `${secret}x`, header: h, body, nowMs: now }).ok).toBe(
      false,
    );
    // A signature over another timestamp (t swapped after signing) is rejected too.
    expect(
      verifyWebhookSignature({
        secret,
        header: header(ts - 1, hex(secret, ts, body)),
        body,
        nowMs: now,
      }).ok,
    ).toBe(false);
  });

  test("stale: 300 s old is accepted, 301 s old rejected (5-minute tolerance); custom tolerance", () => {
    const at300 = ts - 300;
    const at301 = ts - 301;
    expect(
      verifyWebhookSignature({
        secret,
        header: header(at300, hex(secret, at300, body)),
        body,
        nowMs: now,
      }).ok,
    ).toBe(true);
    const stale = verifyWebhookSignature({
      secret,
      header: header(at301, hex(secret, at301, body)),
      body,
      nowMs: now,
    });
    expect(stale.ok).toBe(false);
    expect(
      verifyWebhookSignature({
        secret,
        header: header(at301, hex(secret, at301, body)),
        body,
        nowMs: now,
        toleranceSeconds: 600,
      }).ok,
    ).toBe(true);
    expect(
      verifyWebhookSignature({
        secret,
        header: header(ts - 60, hex(secret, ts - 60, body)),
        body,
        nowMs: now,
        toleranceSeconds: 30,
      }).ok,
    ).toBe(false);
  });

  test("from the future beyond the tolerance → rejected; within it → ok", () => {
    const far = ts + 301;
    const near = ts + 299;
    expect(
      verifyWebhookSignature({
        secret,
        header: header(far, hex(secret, far, body)),
        body,
        nowMs: now,
      }).ok,
    ).toBe(false);
    expect(
      verifyWebhookSignature({
        secret,
        header: header(near, hex(secret, near, body)),
        body,
        nowMs: now,
      }).ok,
    ).toBe(true);
  });

  test("without nowMs it checks against the real time", () => {
    const real = Math.floor(Date.now() / 1000);
    expect(
      verifyWebhookSignature({ secret, header: header(real, hex(secret, real, body)), body }).ok,
    ).toBe(true);
    expect(
      verifyWebhookSignature({
        secret,
        header: header(real - 3600, hex(secret, real - 3600, body)),
        body,
      }).ok,
    ).toBe(false);
  });

  test("malformed headers → rejected with a reason", () => {
    const good = hex(secret, ts, body);
    for (const h of [
      "",
      "garbage",
      `v1=${good}`,
      `t=${ts}`,
      `t=,v1=${good}`,
      `t=abc,v1=${good}`,
      `t=-5,v1=${good}`,
      `t=0,v1=${good}`,
      `t=${ts}.5,v1=${good}`,
      `t=${ts},v2=${good}`,
      `t=${ts},v1=`,
    ]) {
      const res = verifyWebhookSignature({ secret, header: h, body, nowMs: now });
      expect(res.ok).toBe(false);
      if (!res.ok) expect(res.reason.length).toBeGreaterThan(0);
    }
  });

  test("two v1 values: accepted when only the second matches (rotation), rejected when none does", () => {
    const other = hex("whsec_other", ts, body);
    const good = hex(secret, ts, body);
    expect(
      verifyWebhookSignature({ secret, header: header(ts, other, good), body, nowMs: now }),
    ).toEqual({ ok: true, timestamp: ts });
    expect(
      verifyWebhookSignature({ secret, header: header(ts, good, other), body, nowMs: now }).ok,
    ).toBe(true);
    expect(
      verifyWebhookSignature({ secret, header: header(ts, other, other), body, nowMs: now }).ok,
    ).toBe(false);
    // Upper-case hex is not the contract (lower-case hex).
    expect(
      verifyWebhookSignature({
        secret,
        header: header(ts, good.toUpperCase()),
        body,
        nowMs: now,
      }).ok,
    ).toBe(false);
  });
});

// Last: it moves the shared ManualClock past the pending-claim TTL (7 days).
describe("request.expired (opt-in)", () => {
  test("delivered to a webhook subscribed to it, not to a default-subscription webhook", async () => {
    const rxExpired = startReceiver();
    const rxDefault = startReceiver();
    try {
      const svc = await freshService();
      const expiredHook = await createHook(svc, `${rxExpired.url}/expired`, ["request.expired"]);
      const defaultHook = await createHook(svc, `${rxDefault.url}/default`);
      expect(defaultHook.events).not.toContain("request.expired");
      const { agent, claim } = await submit(svc, { agent_id: "a-9" });
      await drain();
      expect(rxExpired.received).toHaveLength(0);
      expect(rxDefault.received).toHaveLength(1);

      // Not yet: one second before the TTL nothing expires.
      clock.advance(7 * 86_400_000 - 1_000);
      await expirePendingClaims(t.server.ctx);
      await drain();
      expect(rxExpired.received).toHaveLength(0);

      clock.advance(1_000);
      await expirePendingClaims(t.server.ctx);
      await drain();
      expect(rxExpired.received).toHaveLength(1);
      const body = expectSignedDelivery(
        rxExpired.received[0]!,
        expiredHook.secret,
        "request.expired",
      );
      expectPayloadShape(body, ["agent_id", "reason"]);
      expect(body.timestamp).toBe(isoNow());
      expect(body.data).toEqual({
        claim_id: claim.claim_id,
        namespace: s.namespace,
        service: svc.slug,
        agent_key: didKeyOf(agent.publicKey),
        public_key: agent.publicKey,
        status: "expired",
        agent_id: "a-9",
        reason: "pending_ttl_elapsed",
      });
      // The default webhook only ever saw request.submitted.
      expect(rxDefault.received.map((r) => r.headers["x-sigilum-event"])).toEqual([
        "request.submitted",
      ]);
      const list = await s.client.get<DeliveryList>(
        `/v1/services/${svc.serviceId}/webhooks/${defaultHook.id}/deliveries`,
      );
      expect(list.body.deliveries.map((d: { event: string }) => d.event)).toEqual([
        "request.submitted",
      ]);
    } finally {
      rxExpired.stop();
      rxDefault.stop();
    }
  });
});
