/**
 * webhooks.md §5: IPv6 forms that carry an IPv4 address are unwrapped and the IPv4 rules applied,
 * for local-use NAT64 (64:ff9b:1::/48) and Teredo (2001::/32: server IPv4 in bits 32–63, client
 * IPv4 stored inverted in the last 32 bits; both are checked). Unit tests on the guard, then the
 * same addresses over HTTP: as URL literals and DNS answers at creation (400 INVALID_WEBHOOK_URL)
 * and as the address resolved at delivery time (blocked_destination, nothing sent).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseIp } from "../../src/net/index.ts";
import { blockedReason } from "../../src/webhooks/ssrfGuard.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  ClaimSubmitted,
  Deleted,
  DeliveryList,
  WebhookCreated,
} from "../helpers/types.ts";

function reason(text: string): string | null {
  const ip = parseIp(text);
  if (!ip) throw new Error(`fixture ${text} is not an IP`);
  return blockedReason(ip);
}

// Teredo client addresses are stored XOR 0xffffffff: 127.0.0.1 → 80ff:fffe, 192.0.2.45 → 3fff:fdd2,
// 93.184.216.34 → a247:27dd. 65.54.227.120 = 4136:e378 (a public Teredo server), 10.0.0.1 = a00:1.
const TEREDO_CLIENT_LOOPBACK = "2001:0:4136:e378:8000:63bf:80ff:fffe";
const TEREDO_CLIENT_DOC = "2001:0:4136:e378:8000:63bf:3fff:fdd2";
const TEREDO_SERVER_PRIVATE = "2001:0:a00:1:0:0:a247:27dd";
const TEREDO_PUBLIC = "2001:0:4136:e378:8000:63bf:a247:27dd";
const NAT64_LOCAL_LOOPBACK = "64:ff9b:1::7f00:1";
const NAT64_LOCAL_PUBLIC = "64:ff9b:1::5db8:d822";

describe("blockedReason: local-use NAT64 64:ff9b:1::/48", () => {
  test.each([
    [NAT64_LOCAL_LOOPBACK, "127.0.0.0/8"],
    ["64:ff9b:1::10.0.0.1", "10.0.0.0/8"],
    ["64:ff9b:1:abcd::192.168.1.1", "192.168.0.0/16"], // any /96 inside the /48
    ["64:ff9b:1:0:a:0:100:0", "10.0.0.0/8"], // RFC 6052 /64 layout of 10.0.0.1 (bits 72–103)
    ["64:ff9b:1:7f00:0:100::", "0.0.0.0/8"], // /48 layout of 127.0.0.1: last 32 bits zero
  ])("%s embeds a blocked IPv4 (%s)", (address, range) => {
    const why = reason(address);
    expect(why).toContain(range);
    expect(why).toContain("local-use NAT64");
  });

  test("a public IPv4 inside it passes", () => {
    expect(reason(NAT64_LOCAL_PUBLIC)).toBeNull();
    expect(reason("64:ff9b:1:ffff::8.8.8.8")).toBeNull();
  });

  test("the well-known 64:ff9b::/96 keeps its own name", () => {
    expect(reason("64:ff9b::7f00:1")).toContain("NAT64");
    expect(reason("64:ff9b::7f00:1")).not.toContain("local-use");
  });
});

describe("blockedReason: Teredo 2001::/32", () => {
  test("a client IPv4 (stored inverted) that is blocked", () => {
    expect(reason(TEREDO_CLIENT_LOOPBACK)).toContain("127.0.0.0/8");
    expect(reason(TEREDO_CLIENT_LOOPBACK)).toContain("Teredo");
    expect(reason(TEREDO_CLIENT_DOC)).toContain("192.0.2.0/24");
  });

  test("a server IPv4 that is blocked", () => {
    expect(reason(TEREDO_SERVER_PRIVATE)).toContain("10.0.0.0/8");
    expect(reason(TEREDO_SERVER_PRIVATE)).toContain("Teredo");
  });

  test("public server and client pass; the not-inverted spelling of a public client is not confused", () => {
    expect(reason(TEREDO_PUBLIC)).toBeNull();
    // 2001:0:…:7f00:1 carries client ~7f000001 = 128.255.255.254: public.
    expect(reason("2001:0:4136:e378:8000:63bf:7f00:1")).toBeNull();
  });

  test("only 2001:0000::/32 is Teredo (2001:db8::/32 stays documentation)", () => {
    expect(reason("2001:db8::1")).toContain("documentation");
    expect(reason("2001:1:4136:e378:8000:63bf:80ff:fffe")).toBeNull();
  });
});

// ---- over HTTP ----

const HOST = "hooks.example";
const PUBLIC = "93.184.216.34";

let dnsAnswer: string[] = [PUBLIC];
let t: TestServer;
let s: ServiceSetup;
const receiver = startReceiver();

beforeAll(async () => {
  t = await startTestServer({
    env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_RETRY_SCHEDULE: "1h" },
    resolveHost: async (host) => (host === HOST ? [...dnsAnswer] : []),
  });
  s = await ownerWithKey(t);
});

afterAll(async () => {
  await t?.close();
  receiver.stop();
});

const BLOCKED: [string, string, RegExp][] = [
  ["local-use NAT64 of loopback", NAT64_LOCAL_LOOPBACK, /local-use NAT64/],
  ["Teredo client loopback", TEREDO_CLIENT_LOOPBACK, /Teredo/],
  ["Teredo server private", TEREDO_SERVER_PRIVATE, /Teredo/],
];

describe("creating a webhook", () => {
  test.each(BLOCKED)("%s as the URL literal → 400 INVALID_WEBHOOK_URL", async (_, address, why) => {
    const res = await s.client.post<ApiErrorBody>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `https://[${address}]/hook`,
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("INVALID_WEBHOOK_URL");
    expect(res.body.error).toMatch(why);
  });

  test.each(BLOCKED)("%s as the DNS answer → 400 INVALID_WEBHOOK_URL", async (_, address, why) => {
    dnsAnswer = [address];
    const res = await s.client.post<ApiErrorBody>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `https://${HOST}/hook`,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(why);
  });

  test("the public forms are accepted", async () => {
    for (const address of [NAT64_LOCAL_PUBLIC, TEREDO_PUBLIC]) {
      const res = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
        url: `https://[${address}]/hook`,
      });
      expect(res.status).toBe(201);
      expect(
        (await s.client.delete<Deleted>(`/v1/services/${s.serviceId}/webhooks/${res.body.id}`))
          .status,
      ).toBe(200);
    }
  });
});

describe("at delivery time (the host resolves to an embedding form after creation)", () => {
  test.each(BLOCKED)("%s → blocked_destination, nothing sent", async (_, address) => {
    dnsAnswer = [PUBLIC];
    const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `http://${HOST}:${receiver.port}/hook`,
    });
    expect(hook.status).toBe(201);
    dnsAnswer = [address];
    const claim = await submitClaim<ClaimSubmitted>(
      t,
      await newAgent(s.namespace),
      s.apiKey,
      s.slug,
    );
    expect(claim.status).toBe(201);
    await t.server.ctx.deliveryWorker.drain();
    const base = `/v1/services/${s.serviceId}/webhooks/${hook.body.id}`;
    const [d] = (await s.client.get<DeliveryList>(`${base}/deliveries`)).body.deliveries;
    expect(d).toMatchObject({ attempt_count: 1, last_error: "blocked_destination" });
    expect(receiver.received).toHaveLength(0);
    expect((await s.client.delete<Deleted>(base)).status).toBe(200);
  });
});
