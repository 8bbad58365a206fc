import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { expectError } from "../helpers/assertions.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { ApiErrorBody, Claim, ClaimSubmitted, ClaimWithHistory } from "../helpers/types.ts";

async function verify(t: TestServer, s: ServiceSetup, namespace: string, publicKey: string) {
  const q = new URLSearchParams({ namespace, public_key: publicKey });
  const res = await fetch(`${t.url}/v1/verify?${q}`, {
    headers: { authorization: `Bearer ${s.apiKey}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function eventRows(t: TestServer, claimId: string) {
  const rs = await t.server.ctx.database.client.execute({
    sql: "SELECT id, type, payload FROM events WHERE claim_id = ? ORDER BY created_at, rowid",
    args: [claimId],
  });
  return rs.rows.map((r) => ({
    id: String(r.id),
    type: String(r.type),
    payload: JSON.parse(String(r.payload)),
  }));
}

describe("claim lifecycle over HTTP", () => {
  let t: TestServer;
  let s: ServiceSetup;
  beforeAll(async () => {
    t = await startTestServer();
    s = await ownerWithKey(t);
  });
  afterAll(() => t.close());

  test("submit → pending → verify false → approve → verify true → revoke → verify false → resubmit keeps history", async () => {
    const agent = await newAgent(s.namespace);
    const submitted = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug, {
      subject: "alice",
      agent_name: "Helper",
    });
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({
      status: "pending",
      namespace: s.namespace,
      service: s.slug,
      public_key: agent.publicKey,
    });
    expect(submitted.body.claim_id).toMatch(/^claim_[0-9A-Za-z]{24}$/);
    expect(submitted.body.agent_key).toMatch(/^did:key:z6Mk/);
    const claimId = submitted.body.claim_id;

    expect((await verify(t, s, s.namespace, agent.publicKey)).body).toEqual({
      authorized: false,
      status: "pending",
      reason: "Authorization pending approval",
    });

    const approved = await s.client.post<Claim>(`/v1/claims/${claimId}/approve`, {
      reason: "looks fine",
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      claim_id: claimId,
      status: "approved",
      reason: "looks fine",
    });
    // verify accepts the did:key form too
    const ok = await verify(t, s, s.namespace, submitted.body.agent_key);
    expect(ok.body).toMatchObject({ authorized: true, claim_id: claimId, status: "approved" });

    const revoked = await s.client.post<Claim>(`/v1/claims/${claimId}/revoke`);
    expect(revoked.status).toBe(200);
    expect((await verify(t, s, s.namespace, agent.publicKey)).body).toEqual({
      authorized: false,
      status: "revoked",
      reason: "Authorization revoked",
    });

    const again = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
    expect(again.status).toBe(201);
    expect(again.body.claim_id).not.toBe(claimId);
    const old = await s.client.get<ClaimWithHistory>(`/v1/claims/${claimId}`);
    expect(old.body.status).toBe("revoked");
    expect(
      old.body.history.map((h: { from: string | null; to: string }) => [h.from, h.to]),
    ).toEqual([
      [null, "pending"],
      ["pending", "approved"],
      ["approved", "revoked"],
    ]);
    expect(old.body.history[1]).toMatchObject({
      actor: `owner:${s.namespace}`,
      reason: "looks fine",
    });

    const events = await eventRows(t, claimId);
    expect(events.map((e) => e.type)).toEqual([
      "request.submitted",
      "request.approved",
      "request.revoked",
    ]);
    for (const e of events) {
      expect(e.id).toMatch(/^evt_[0-9A-Za-z]{24}$/);
      expect(e.payload).toEqual({
        id: e.id,
        event: e.type,
        timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        data: expect.objectContaining({
          claim_id: claimId,
          namespace: s.namespace,
          service: s.slug,
          agent_key: submitted.body.agent_key,
          public_key: agent.publicKey,
          subject: "alice",
          agent_name: "Helper",
        }),
      });
    }
    expect(events.map((e) => e.payload.data.status)).toEqual(["pending", "approved", "revoked"]);
    expect(events[1]!.payload.data.reason).toBe("looks fine");
    expect(events[0]!.payload.data.agent_id).toBeUndefined();
  });

  test("a second submission while one is active returns it (200) without a new event", async () => {
    const agent = await newAgent(s.namespace);
    const first = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
    const second = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    expect(second.body.claim_id).toBe(first.body.claim_id);
    expect(await eventRows(t, first.body.claim_id)).toHaveLength(1);
  });

  test("concurrent approve and reject: exactly one 200, one 409 INVALID_TRANSITION, one event", async () => {
    const agent = await newAgent(s.namespace);
    const { body } = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
    const [a, b] = await Promise.all([
      s.client.post<Claim>(`/v1/claims/${body.claim_id}/approve`),
      s.client.post<Claim>(`/v1/claims/${body.claim_id}/reject`),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expectError(loser, 409, "INVALID_TRANSITION");
    const decisions = (await eventRows(t, body.claim_id)).filter(
      (e) => e.type !== "request.submitted",
    );
    expect(decisions).toHaveLength(1);
  });

  test("transitions outside the lifecycle are 409 with the current status", async () => {
    const agent = await newAgent(s.namespace);
    const { body } = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
    const early = await s.client.post<ApiErrorBody>(`/v1/claims/${body.claim_id}/revoke`);
    expect(early.status).toBe(409);
    expect(early.body.error).toContain("pending");
    expect((await s.client.post<Claim>(`/v1/claims/${body.claim_id}/reject`)).status).toBe(200);
    const late = await s.client.post<ApiErrorBody>(`/v1/claims/${body.claim_id}/approve`);
    expect(late).toMatchObject({ status: 409, body: { code: "INVALID_TRANSITION" } });
    expect(late.body.error).toContain("rejected");
  });
});

describe("verify query encoding", () => {
  test("an unencoded base64 `+` (read as a space) in public_key still finds the key", async () => {
    const t = await startTestServer();
    const s = await ownerWithKey(t);
    // Find an agent whose canonical key contains a "+" so the case is really exercised.
    let agent = await newAgent(s.namespace);
    while (!agent.publicKey.includes("+")) agent = await newAgent(s.namespace);
    const { body } = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
    await s.client.post<Claim>(`/v1/claims/${body.claim_id}/approve`);
    const raw = `${t.url}/v1/verify?namespace=${s.namespace}&public_key=${agent.publicKey}`;
    const res = await fetch(raw, { headers: { authorization: `Bearer ${s.apiKey}` } });
    expect(await res.json()).toMatchObject({ authorized: true, claim_id: body.claim_id });
    await t.close();
  });
});
