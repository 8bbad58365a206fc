import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expirePendingClaims } from "../../src/claims/lifecycle.ts";
import { type Agent, newAgent, submitClaim } from "../helpers/agent.ts";
import { expectError, expectValidation, ISO_MS } from "../helpers/assertions.ts";
import {
  ApiClient,
  type JsonResponse,
  ManualClock,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  Claim,
  ClaimSubmitted,
  ClaimWithHistory,
  Policy,
  Service,
  VerifyAnswer,
} from "../helpers/types.ts";

// http-api.md §5: the auto-approve policy, the per-service pending cap, pending expiry and the
// owner decision bodies. One ManualClock server with a 1 h pending TTL and a pending cap of 2.

const MINUTE = 60_000;
const clock = new ManualClock();
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({
    clock,
    env: { SIGILUM_PENDING_CLAIM_TTL: "1h", SIGILUM_MAX_PENDING_CLAIMS: "2" },
  });
});
afterAll(() => t.close());

function agentIn(namespace: string): Promise<Agent> {
  return newAgent(namespace, clock.now());
}

function submit(s: ServiceSetup, agent: Agent, extra: Record<string, unknown> = {}) {
  return submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug, extra, {
    created: Math.floor(clock.now() / 1000),
  });
}

function verify(s: ServiceSetup, agent: Agent) {
  const c = new ApiClient(t.url, null);
  c.bearer = s.apiKey;
  return c.get<VerifyAnswer>(
    `/v1/verify?${new URLSearchParams({ namespace: s.namespace, public_key: agent.publicKey })}`,
  );
}

async function eventsOf(claimId: string) {
  const rs = await t.server.ctx.database.client.execute({
    sql: "SELECT id, type, service_id, payload FROM events WHERE claim_id = ? ORDER BY created_at, rowid",
    args: [claimId],
  });
  return rs.rows.map((r) => ({
    type: String(r.type),
    serviceId: r.service_id,
    payload: JSON.parse(String(r.payload)),
  }));
}

function transitions(res: JsonResponse<ClaimWithHistory>) {
  return res.body.history.map((h) => [h.from, h.to, h.actor]);
}

/** Registers one more service of `s`'s owner and returns its slug and id. */
async function anotherService(s: ServiceSetup, slug = uniqueName("svc")) {
  const res = await s.client.post<Service>("/v1/services", { slug, name: "Another" });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, slug: res.body.slug as string };
}

describe("GET/PUT /v1/namespaces/{namespace}/policy", () => {
  test("default is empty; PUT resolves slugs to {id, slug}, lower-cases and de-duplicates; GET returns it", async () => {
    const s = await ownerWithKey(t);
    const other = await anotherService(s);
    const path = `/v1/namespaces/${s.namespace}/policy`;
    const initial = await s.client.get<Policy>(path);
    expect(initial.status).toBe(200);
    expect(initial.body).toEqual({
      namespace: s.namespace,
      auto_approve_services: [],
      blocked_services: [],
      updated_at: null,
    });

    const put = await s.client.put<Policy>(path, {
      auto_approve_services: [s.slug.toUpperCase(), s.slug, ` ${other.slug.toUpperCase()} `],
    });
    expect(put.status).toBe(200);
    const expected = [
      { id: s.serviceId, slug: s.slug },
      { id: other.id, slug: other.slug },
    ].sort((a, b) => a.slug.localeCompare(b.slug));
    expect(put.body).toEqual({
      namespace: s.namespace,
      auto_approve_services: expected,
      blocked_services: [],
      updated_at: new Date(clock.now()).toISOString(),
    });
    expect((await s.client.get<Policy>(path)).body).toEqual(put.body);

    // PUT replaces the lists it names.
    const cleared = await s.client.put<Policy>(path, { auto_approve_services: [] });
    expect(cleared.body.auto_approve_services).toEqual([]);
    expect((await s.client.get<Policy>(path)).body.auto_approve_services).toEqual([]);
  });

  test("a service on the list: its new claims are approved at once (history, events, verify)", async () => {
    const s = await ownerWithKey(t);
    const put = await s.client.put<Policy>(`/v1/namespaces/${s.namespace}/policy`, {
      auto_approve_services: [s.slug.toUpperCase()],
    });
    expect(put.status).toBe(200);
    const agent = await agentIn(s.namespace);
    const res = await submit(s, agent, { subject: "bob" });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("approved");
    const id = res.body.claim_id;

    const claim = await s.client.get<ClaimWithHistory>(`/v1/claims/${id}`);
    expect(claim.body).toMatchObject({ status: "approved", service_id: s.serviceId });
    expect(claim.body.approved_at).toMatch(ISO_MS);
    expect(transitions(claim)).toEqual([
      [null, "pending", `service:${s.slug}`],
      ["pending", "approved", "policy:auto-approve"],
    ]);

    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(["request.submitted", "request.approved"]);
    expect(events.every((e) => e.serviceId === s.serviceId)).toBe(true);
    expect(events[0]!.payload.data.status).toBe("pending");
    expect(events[0]!.payload.data.auto_approved).toBeUndefined();
    expect(events[1]!.payload.data).toMatchObject({
      claim_id: id,
      status: "approved",
      auto_approved: true,
      subject: "bob",
    });

    expect((await verify(s, agent)).body).toMatchObject({ authorized: true, claim_id: id });
  });

  test("the policy of one namespace does not auto-approve another service", async () => {
    const s = await ownerWithKey(t);
    const other = await anotherService(s);
    await s.client.put<Policy>(`/v1/namespaces/${s.namespace}/policy`, {
      auto_approve_services: [other.slug],
    });
    const res = await submit(s, await agentIn(s.namespace));
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("pending");
  });

  test("unknown fields, bad or unknown slugs, a service in both lists and wrong types → 400; the policy is unchanged", async () => {
    const s = await ownerWithKey(t);
    const other = await anotherService(s);
    const path = `/v1/namespaces/${s.namespace}/policy`;
    await s.client.put<Policy>(path, {
      auto_approve_services: [s.slug],
      blocked_services: [other.slug],
    });
    const before = (await s.client.get<Policy>(path)).body;
    const bad: [unknown, string | undefined][] = [
      [{ auto_approve_services: [s.slug], extra: true }, "extra"],
      [{ auto_approve_services: ["-bad-slug"] }, "auto_approve_services.0"],
      [{ auto_approve_services: [s.slug, "has space"] }, "auto_approve_services.1"],
      [{ auto_approve_services: ["under_score"] }, "auto_approve_services.0"],
      [{ auto_approve_services: ["ab"] }, undefined],
      [{ auto_approve_services: ["x".repeat(65)] }, undefined],
      [{ auto_approve_services: s.slug }, "auto_approve_services"],
      [{ auto_approve_services: [42] }, undefined],
      [{ blocked_services: ["-bad-slug"] }, "blocked_services.0"],
      [{ blocked_services: null }, "blocked_services"],
      [{}, "body"],
      [{ auto_approve_services: Array.from({ length: 1001 }, (_, i) => `svc-${i}`) }, undefined],
      [{ blocked_services: Array.from({ length: 1001 }, (_, i) => `svc-${i}`) }, undefined],
      // Slugs are resolved when the policy is written: one nobody registered is refused.
      [{ auto_approve_services: [s.slug, "nobody-registered-this"] }, "auto_approve_services.1"],
      [{ blocked_services: ["nobody-registered-this"] }, "blocked_services.0"],
      // A service is trusted or blocked, not both — also against the list left as it is.
      [{ auto_approve_services: [s.slug], blocked_services: [s.slug] }, "blocked_services.0"],
      [{ auto_approve_services: [other.slug] }, "auto_approve_services.0"],
      [{ blocked_services: [s.slug] }, "blocked_services.0"],
    ];
    for (const [body, field] of bad) {
      const res = await s.client.put<ApiErrorBody>(path, body);
      try {
        expectValidation(res, field);
      } catch (err) {
        throw new Error(`${JSON.stringify(body).slice(0, 80)}: ${(err as Error).message}`);
      }
    }
    const unknown = await s.client.put<ApiErrorBody>(path, {
      auto_approve_services: ["nobody-registered-this"],
    });
    expect(unknown.body.error).toContain("nobody-registered-this");
    expect((await s.client.get<Policy>(path)).body).toEqual(before);
  });
});

describe("pending cap (SIGILUM_MAX_PENDING_CLAIMS=2)", () => {
  test("the third pending claim is stored rejected (max_pending_reached) with one request.rejected", async () => {
    const s = await ownerWithKey(t);
    const agents = await Promise.all([1, 2, 3, 4].map(() => agentIn(s.namespace)));
    const first = await submit(s, agents[0]!);
    const second = await submit(s, agents[1]!);
    expect([first.body.status, second.body.status]).toEqual(["pending", "pending"]);

    const third = await submit(s, agents[2]!);
    expect(third.status).toBe(201);
    expect(third.body.status).toBe("rejected");
    const id = third.body.claim_id;
    const claim = await s.client.get<ClaimWithHistory>(`/v1/claims/${id}`);
    expect(claim.body).toMatchObject({ status: "rejected", reason: "max_pending_reached" });
    expect(claim.body.decided_at).toMatch(ISO_MS);
    expect(transitions(claim)).toEqual([[null, "rejected", "policy:max-pending"]]);

    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(["request.rejected"]);
    expect(events[0]!.payload.data).toMatchObject({
      claim_id: id,
      status: "rejected",
      reason: "max_pending_reached",
    });
    expect((await verify(s, agents[2]!)).body).toEqual({
      authorized: false,
      status: "rejected",
      reason: "Authorization rejected",
    });

    // The cap counts pending claims only: deciding one frees a slot.
    expect((await s.client.post<Claim>(`/v1/claims/${first.body.claim_id}/reject`)).status).toBe(
      200,
    );
    const fourth = await submit(s, agents[3]!);
    expect(fourth.status).toBe(201);
    expect(fourth.body.status).toBe("pending");
  });

  test("the cap is per namespace", async () => {
    const a = await ownerWithKey(t);
    const b = await ownerWithKey(t);
    for (let i = 0; i < 2; i++) await submit(a, await agentIn(a.namespace));
    const res = await submit(b, await agentIn(b.namespace));
    expect(res.body.status).toBe("pending");
  });
});

describe("owner decision bodies", () => {
  test("reason ≤ 500 chars is kept; 501 chars, wrong types or unknown fields → 400 and nothing changes", async () => {
    const s = await ownerWithKey(t);
    const id = (await submit(s, await agentIn(s.namespace))).body.claim_id;
    const bad: [unknown, string][] = [
      [{ reason: "r".repeat(501) }, "reason"],
      [{ reason: "ok", note: "extra" }, "note"],
      [{ reason: 42 }, "reason"],
      [{ reason: null }, "reason"],
    ];
    for (const action of ["approve", "reject", "revoke"]) {
      for (const [body, field] of bad) {
        expectValidation(
          await s.client.post<ApiErrorBody>(`/v1/claims/${id}/${action}`, body),
          field,
        );
      }
    }
    const unchanged = await s.client.get<ClaimWithHistory>(`/v1/claims/${id}`);
    expect(unchanged.body.status).toBe("pending");
    expect(unchanged.body.history).toHaveLength(1);
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(["request.submitted"]);

    const reason = "r".repeat(500);
    const ok = await s.client.post<Claim>(`/v1/claims/${id}/approve`, { reason });
    expect(ok.status).toBe(200);
    expect(ok.body.reason).toBe(reason);
    const revoked = await s.client.post<Claim>(`/v1/claims/${id}/revoke`, {});
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe("revoked");
  });
});

describe("pending expiry (SIGILUM_PENDING_CLAIM_TTL=1h)", () => {
  test("a pending claim past its TTL expires (event, history); approved ones do not; resubmitting creates a new claim", async () => {
    const s = await ownerWithKey(t);
    const waiting = await agentIn(s.namespace);
    const decided = await agentIn(s.namespace);
    const pendingId = (await submit(s, waiting)).body.claim_id;
    const approvedId = (await submit(s, decided)).body.claim_id;
    expect((await s.client.post<Claim>(`/v1/claims/${approvedId}/approve`)).status).toBe(200);

    // Not yet due at 59 minutes.
    clock.advance(59 * MINUTE);
    await expirePendingClaims(t.server.ctx);
    expect((await s.client.get<ClaimWithHistory>(`/v1/claims/${pendingId}`)).body.status).toBe(
      "pending",
    );

    clock.advance(2 * MINUTE);
    await expirePendingClaims(t.server.ctx);
    const expired = await s.client.get<ClaimWithHistory>(`/v1/claims/${pendingId}`);
    expect(expired.body.status).toBe("expired");
    expect(expired.body.history.at(-1)).toEqual({
      from: "pending",
      to: "expired",
      at: new Date(clock.now()).toISOString(),
      actor: "system:expiry",
      reason: expect.any(String),
    });
    const events = await eventsOf(pendingId);
    expect(events.map((e) => e.type)).toEqual(["request.submitted", "request.expired"]);
    expect(events[1]!.payload.data).toMatchObject({ claim_id: pendingId, status: "expired" });
    expect((await verify(s, waiting)).body).toEqual({
      authorized: false,
      status: "expired",
      reason: "Authorization request expired",
    });

    // A second run changes nothing (no duplicate event).
    await expirePendingClaims(t.server.ctx);
    expect(await eventsOf(pendingId)).toHaveLength(2);

    const approved = await s.client.get<ClaimWithHistory>(`/v1/claims/${approvedId}`);
    expect(approved.body.status).toBe("approved");
    expect((await verify(s, decided)).body).toMatchObject({ authorized: true });

    const again = await submit(s, waiting);
    expect(again.status).toBe(201);
    expect(again.body.status).toBe("pending");
    expect(again.body.claim_id).not.toBe(pendingId);
    expect((await verify(s, waiting)).body.status).toBe("pending");
  });

  test("an expired claim cannot be approved afterwards (409 INVALID_TRANSITION)", async () => {
    const s = await ownerWithKey(t);
    const id = (await submit(s, await agentIn(s.namespace))).body.claim_id;
    clock.advance(61 * MINUTE);
    await expirePendingClaims(t.server.ctx);
    const res = await s.client.post<ApiErrorBody>(`/v1/claims/${id}/approve`);
    expectError(res, 409, "INVALID_TRANSITION");
    expect(res.body.error).toContain("expired");
  });
});
