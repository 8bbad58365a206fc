/**
 * webhooks.md §5 at DELIVERY time: the host is resolved once per attempt, every address is
 * checked, and the request goes to the checked address (Host header kept). A resolver injected
 * into the server (mutable here) plays DNS, including a rebinding attack: the webhook is created
 * while `hooks.example` resolves to a public address and it then answers 127.0.0.1.
 *
 * Only loopback is ever reachable: the receivers listen on 127.0.0.1, and a public answer is
 * only ever given at creation time or next to a blocked one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ClaimSubmitted,
  DeliveryDetail,
  DeliveryList,
  WebhookCreated,
} from "../helpers/types.ts";

const HOST = "hooks.example";
const PUBLIC = "93.184.216.34";

/** A DNS stand-in the test can re-point between attempts; it records every lookup. */
class Resolver {
  answer: string[] | Error = [PUBLIC];
  calls: string[] = [];
  resolve = async (host: string): Promise<string[]> => {
    this.calls.push(host);
    if (this.answer instanceof Error) throw this.answer;
    return host === HOST ? [...this.answer] : [];
  };
}

interface Setup {
  t: TestServer;
  s: ServiceSetup;
  dns: Resolver;
  receiver: ReturnType<typeof startReceiver>;
  webhookId: string;
  secret: string;
}

// One retry an hour away: a failed attempt stays pending and is never retried during the test.
const BASE_ENV = {
  SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
  SIGILUM_WEBHOOK_RETRY_SCHEDULE: "1h",
  SIGILUM_WEBHOOK_TIMEOUT_MS: "3000",
};

async function setup(env: Record<string, string>, createWith: string[]): Promise<Setup> {
  const dns = new Resolver();
  const receiver = startReceiver();
  const t = await startTestServer({ env: { ...BASE_ENV, ...env }, resolveHost: dns.resolve });
  const s = await ownerWithKey(t);
  dns.answer = createWith;
  const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
    url: `http://${HOST}:${receiver.port}/hook`,
  });
  if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${JSON.stringify(hook.body)}`);
  return { t, s, dns, receiver, webhookId: hook.body.id, secret: hook.body.secret };
}

async function teardown(x: Setup | undefined) {
  if (!x) return;
  await x.t.close();
  x.receiver.stop();
}

/** Submits one claim with DNS answering `answer`, lets the worker finish, returns the delivery. */
async function deliverWith(x: Setup, answer: string[] | Error) {
  x.dns.answer = answer;
  const before = x.dns.calls.length;
  const agent = await newAgent(x.s.namespace);
  const claim = await submitClaim<ClaimSubmitted>(x.t, agent, x.s.apiKey, x.s.slug);
  expect(claim.status).toBe(201);
  await x.t.server.ctx.deliveryWorker.drain();
  const rs = await x.t.server.ctx.database.client.execute({
    sql: `SELECT d.id FROM deliveries d JOIN events e ON e.id = d.event_id
          WHERE e.claim_id = ? AND d.webhook_id = ?`,
    args: [claim.body.claim_id, x.webhookId],
  });
  expect(rs.rows).toHaveLength(1);
  const deliveryId = String(rs.rows[0]!.id);
  const res = await x.s.client.get<DeliveryDetail>(
    `/v1/services/${x.s.serviceId}/webhooks/${x.webhookId}/deliveries/${deliveryId}`,
  );
  expect(res.status).toBe(200);
  // The host was looked up again at delivery time (not only when the webhook was created).
  expect(x.dns.calls.slice(before)).toContain(HOST);
  return res.body as {
    id: string;
    status: string;
    attempt_count: number;
    next_attempt_at: string | null;
    last_error: string | null;
    last_status_code: number | null;
    attempts: { attempt: number; error: string | null; status_code: number | null }[];
  };
}

function expectFailedAttempt(
  d: Awaited<ReturnType<typeof deliverWith>>,
  error: string,
  nowMs = Date.now(),
) {
  expect(d.status).toBe("pending"); // a failed attempt is retried later
  expect(d.attempt_count).toBe(1);
  expect(d.last_error).toBe(error);
  expect(d.last_status_code).toBeNull();
  expect(d.attempts).toHaveLength(1);
  expect(d.attempts[0]).toMatchObject({ attempt: 1, error, status_code: null });
  // Scheduled for a retry: the 1 h schedule entry ±20 %.
  const next = Date.parse(d.next_attempt_at ?? "");
  expect(next).toBeGreaterThan(nowMs + 0.75 * 3_600_000);
  expect(next).toBeLessThan(nowMs + 1.25 * 3_600_000);
}

describe("strict policy (no private targets): checked on the address actually connected to", () => {
  let x: Setup;
  beforeAll(async () => {
    x = await setup({}, [PUBLIC]);
  });
  afterAll(() => teardown(x));

  test("DNS rebinding: created while public, resolving to 127.0.0.1 at delivery → blocked_destination, nothing sent", async () => {
    const d = await deliverWith(x, ["127.0.0.1"]);
    expectFailedAttempt(d, "blocked_destination");
    expect(x.receiver.received).toHaveLength(0);
  });

  test("an answer mixing a public and a private address is blocked (every address must pass)", async () => {
    const d = await deliverWith(x, [PUBLIC, "127.0.0.1"]);
    expectFailedAttempt(d, "blocked_destination");
    const reversed = await deliverWith(x, ["127.0.0.1", PUBLIC]);
    expectFailedAttempt(reversed, "blocked_destination");
    expect(x.receiver.received).toHaveLength(0);
  });

  for (const spelled of ["::ffff:127.0.0.1", "::ffff:7f00:1", "0x7f.1", "2130706433", "127.1"]) {
    test(`a loopback answer spelled ${spelled} is parsed to bytes and blocked`, async () => {
      const d = await deliverWith(x, [spelled]);
      expectFailedAttempt(d, "blocked_destination");
      expect(x.receiver.received).toHaveLength(0);
    });
  }

  test("a resolver that throws → dns_error, and the delivery stays pending for a retry", async () => {
    const d = await deliverWith(x, new Error("SERVFAIL"));
    expectFailedAttempt(d, "dns_error");
    const list = await x.s.client.get<DeliveryList>(
      `/v1/services/${x.s.serviceId}/webhooks/${x.webhookId}/deliveries?status=pending`,
    );
    expect(list.status).toBe(200);
    expect(list.body.deliveries.map((r: { id: string }) => r.id)).toContain(d.id);
  });

  test.each(["ENOTFOUND", "EAI_AGAIN", "ETIMEOUT"])(
    "a resolver failing with %s → dns_error with that code, so the operator sees why",
    async (code) => {
      const failure = Object.assign(new Error(`getaddrinfo ${code} ${HOST}`), { code });
      const d = await deliverWith(x, failure);
      expectFailedAttempt(d, `dns_error: ${code}`);
    },
  );

  test("a resolver with no answer at all → dns_error", async () => {
    const d = await deliverWith(x, []);
    expectFailedAttempt(d, "dns_error");
    expect(x.receiver.received).toHaveLength(0);
  });
});

describe("SIGILUM_WEBHOOK_ALLOWED_CIDRS=127.0.0.1/32", () => {
  let x: Setup;
  beforeAll(async () => {
    x = await setup({ SIGILUM_WEBHOOK_ALLOWED_CIDRS: "127.0.0.1/32" }, ["127.0.0.1"]);
  });
  afterAll(() => teardown(x));

  test("127.0.0.1 is allowed: delivered to that address with Host = the webhook's host name", async () => {
    const d = await deliverWith(x, ["127.0.0.1"]);
    expect(d.status).toBe("succeeded");
    expect(d.attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 200 })]);
    expect(x.receiver.received).toHaveLength(1);
    const got = x.receiver.received[0]!;
    expect(got.headers.host).toBe(`${HOST}:${x.receiver.port}`);
    expect(got.headers["x-sigilum-delivery-id"]).toBe(d.id);
    const [tPart, v1Part] = got.headers["x-sigilum-signature"]!.split(",");
    const expected = createHmac("sha256", x.secret)
      .update(`${tPart!.slice(2)}.${got.body}`)
      .digest("hex");
    expect(v1Part).toBe(`v1=${expected}`);
  });

  test("127.0.0.2 stays blocked (outside the allowed range)", async () => {
    const before = x.receiver.received.length;
    const d = await deliverWith(x, ["127.0.0.2"]);
    expectFailedAttempt(d, "blocked_destination");
    expect(x.receiver.received).toHaveLength(before);
  });

  test("an allowed address next to one outside the range is blocked", async () => {
    const before = x.receiver.received.length;
    const d = await deliverWith(x, ["127.0.0.1", "127.0.0.2"]);
    expectFailedAttempt(d, "blocked_destination");
    expect(x.receiver.received).toHaveLength(before);
  });
});

describe("SIGILUM_WEBHOOK_ALLOW_PRIVATE=true", () => {
  let x: Setup;
  beforeAll(async () => {
    x = await setup({ SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" }, ["127.0.0.1"]);
  });
  afterAll(() => teardown(x));

  test("a loopback answer is delivered", async () => {
    const d = await deliverWith(x, ["127.0.0.1"]);
    expect(d.status).toBe("succeeded");
    expect(d.last_error).toBeNull();
    expect(x.receiver.received).toHaveLength(1);
    expect(x.receiver.received[0]!.headers.host).toBe(`${HOST}:${x.receiver.port}`);
  });

  test("a resolver failure is still dns_error (the lookup is not skipped)", async () => {
    const d = await deliverWith(x, new Error("NXDOMAIN"));
    expectFailedAttempt(d, "dns_error");
  });
});
