import { describe, expect, test } from "bun:test";
import { pruneExpired } from "../../src/jobs.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { ManualClock, signUp, startTestServer } from "../helpers/server.ts";
import { ownerWithKey } from "../helpers/setup.ts";
import type { Claim, ClaimSubmitted, Deleted } from "../helpers/types.ts";

async function count(t: Awaited<ReturnType<typeof startTestServer>>, table: string) {
  const rs = await t.server.ctx.database.client.execute(`SELECT count(*) AS n FROM ${table}`);
  return Number(rs.rows[0]?.n);
}

describe("retention", () => {
  test("expired sessions, nonces and old feed tombstones are pruned; live ones stay", async () => {
    const clock = new ManualClock(Date.now());
    const t = await startTestServer({
      clock,
      env: { SIGILUM_SESSION_IDLE_TTL: "1h", SIGILUM_SESSION_MAX_TTL: "2h" },
    });
    const s = await ownerWithKey(t);
    const x = await signUp(t);
    const agent = await newAgent(x.namespace, clock.now());
    const claim = await submitClaim<ClaimSubmitted>(
      t,
      agent,
      s.apiKey,
      s.slug,
      {},
      { created: Math.floor(clock.now() / 1000) },
    );
    expect(claim.status).toBe(201);
    await x.client.post<Claim>(`/v1/claims/${claim.body.claim_id}/approve`);
    expect((await x.client.delete<Deleted>("/v1/auth/account")).status).toBe(200);
    expect(await count(t, "feed_tombstones")).toBe(1);
    expect(await count(t, "signature_nonces")).toBe(1);
    expect(await count(t, "claim_nonces")).toBe(1);
    const sessions = await count(t, "sessions");

    expect(await pruneExpired(t.server.ctx)).toBe(0);
    clock.advance(25 * 3_600_000);
    await pruneExpired(t.server.ctx);
    expect(await count(t, "signature_nonces")).toBe(0);
    expect(await count(t, "claim_nonces")).toBe(0);
    expect(await count(t, "sessions")).toBe(0);
    expect(sessions).toBeGreaterThan(0);
    expect(await count(t, "feed_tombstones")).toBe(1);
    clock.advance(30 * 86_400_000);
    await pruneExpired(t.server.ctx);
    expect(await count(t, "feed_tombstones")).toBe(0);
    await t.close();
  });
});
