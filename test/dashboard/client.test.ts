import { describe, expect, test } from "bun:test";
import {
  apiPath,
  ID_FORMATS as CLIENT_FORMATS,
  InvalidIdError,
} from "../../src/dashboard/app/ids.ts";
import { applyClaimEvent } from "../../src/dashboard/app/pages/inbox.tsx";
import { mapClaimStats, mapDeliveryStats } from "../../src/dashboard/app/stats.ts";
import type { Claim } from "../../src/dashboard/app/types.ts";
import { ID_FORMATS } from "../../src/ids.ts";

// The browser code's pure parts: id checks before building paths, the inbox's live list, and the
// one place that reads the stats routes' shapes.

describe("ids in URL paths", () => {
  test("the client's formats are the server's (src/ids.ts), kind by kind", () => {
    for (const [kind, pattern] of Object.entries(CLIENT_FORMATS)) {
      const server = (ID_FORMATS as Record<string, RegExp>)[kind];
      if (server) expect(`${kind} ${pattern.source}`).toBe(`${kind} ${server.source}`);
    }
    expect(Object.keys(CLIENT_FORMATS)).toEqual(
      expect.arrayContaining([
        "service",
        "apiKey",
        "webhook",
        "claim",
        "delivery",
        "token",
        "session",
        "namespace",
      ]),
    );
  });

  test("apiPath refuses dot segments, slashes and encoded tricks", () => {
    const service = "1b4e28ba-2fa1-41d2-883f-0016d3cca427";
    expect(apiPath("/v1/services/{service}/keys", { service })).toBe(
      `/v1/services/${service}/keys`,
    );
    for (const bad of [
      "..",
      ".",
      "%2e%2e",
      "a/b",
      `${service}/..`,
      "",
      "1B4E28BA-2FA1-41D2-883F-0016D3CCA427",
    ])
      expect(() => apiPath("/v1/services/{service}", { service: bad })).toThrow(InvalidIdError);
    expect(() => apiPath("/v1/auth/passkeys/{passkey}", { passkey: "../tokens" })).toThrow(
      InvalidIdError,
    );
    const passkey = "pk_0123456789ABCDEFGHij";
    expect(apiPath("/v1/auth/passkeys/{passkey}", { passkey })).toBe(
      `/v1/auth/passkeys/${passkey}`,
    );
  });
});

const claim = (id: string, status: Claim["status"]): Claim => ({
  claim_id: id,
  namespace: "ns",
  service: "svc",
  service_id: null,
  public_key: "ed25519:AAAA",
  agent_key: "did:key:z6MkAAAA",
  agent_ip: "203.0.113.7",
  subject: null,
  agent_id: null,
  agent_name: null,
  status,
  reason: null,
  created_at: "2026-11-29T00:00:00.000Z",
  decided_at: null,
  approved_at: null,
  revoked_at: null,
});

describe("the inbox's live list", () => {
  const page = (claims: Claim[], total = claims.length) => ({
    claims,
    pagination: { limit: 50, offset: 0, total, has_more: false },
  });

  test("a new pending claim goes on top and counts; a repeat of it changes nothing", () => {
    const list = applyClaimEvent(page([claim("a", "pending")]), claim("b", "pending"), true);
    expect(list.claims.map((c) => c.claim_id)).toEqual(["b", "a"]);
    expect(list.pagination.total).toBe(2);
    expect(applyClaimEvent(list, claim("b", "pending"), true)).toBe(list);
  });

  test("a claim decided elsewhere leaves the list and the count", () => {
    const list = applyClaimEvent(
      page([claim("a", "pending"), claim("b", "pending")]),
      claim("a", "approved"),
      true,
    );
    expect(list.claims.map((c) => c.claim_id)).toEqual(["b"]);
    expect(list.pagination.total).toBe(1);
    const unknown = applyClaimEvent(list, claim("zzz", "rejected"), true);
    expect(unknown).toBe(list);
  });

  test("on a later page a new pending claim only counts", () => {
    const list = applyClaimEvent(page([claim("a", "pending")], 60), claim("b", "pending"), false);
    expect(list.claims.map((c) => c.claim_id)).toEqual(["a"]);
    expect(list.pagination.total).toBe(61);
  });
});

describe("stats mapping (the stats routes' models, typed from the server)", () => {
  const window = {
    namespace: "acme",
    from: "2026-11-01T00:00:00.000Z",
    to: "2026-11-02T00:00:00.000Z",
  };

  test("claims per day by outcome; auto-approved counts as approved", () => {
    const bucket = { day: "2026-11-01", total: 10, pending: 3, approved: 1, auto_approved: 1 };
    const buckets = [{ ...bucket, rejected: 1, revoked: 1, expired: 2 }];
    expect(mapClaimStats({ ...window, days: 1, buckets })).toEqual([
      { date: "2026-11-01", approved: 2, rejected: 1, pending: 3, other: 3 },
    ]);
    expect(mapClaimStats({ ...window, days: 1, buckets: [] })).toEqual([]);
  });

  test("deliveries per hour per webhook; retrying ones count as failed", () => {
    const hour = "2026-11-29T10:00:00.000Z";
    const buckets = [{ hour, succeeded: 4, failed: 1, retrying: 2, pending: 1, cancelled: 0 }];
    const webhook = {
      webhook_id: "wh_1",
      url: "https://x.example/h",
      service_id: "s",
      service: "svc",
    };
    expect(mapDeliveryStats({ ...window, hours: 1, webhooks: [{ ...webhook, buckets }] })).toEqual([
      { id: "wh_1", label: "https://x.example/h", hours: [{ hour, succeeded: 4, failed: 3 }] },
    ]);
    expect(mapDeliveryStats({ ...window, hours: 1, webhooks: [] })).toEqual([]);
  });
});
