/**
 * The cache change log (operations.md §6): triggers record what other instances must drop, in the
 * same transaction as the change, and nothing else; retention prunes old rows; a follower that
 * finds rows pruned before it read them forgets everything it cached.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ChangeLogFollower, pruneChangeLog } from "../../src/changeLog.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey } from "../helpers/setup.ts";
import type { ApiKey, ApiKeyList, Claim, ClaimSubmitted, Deleted } from "../helpers/types.ts";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t?.close();
});

async function changesAfter(seq: number) {
  const rs = await t.server.ctx.database.client.execute({
    sql: "SELECT seq, kind, key FROM cache_changes WHERE seq > ? ORDER BY seq",
    args: [seq],
  });
  return rs.rows.map((r) => ({ kind: String(r.kind), key: String(r.key) }));
}

async function lastSeq(): Promise<number> {
  const rs = await t.server.ctx.database.client.execute("SELECT max(seq) AS m FROM cache_changes");
  return Number(rs.rows[0]!.m ?? 0);
}

describe("cache_changes triggers", () => {
  test("claim submit and transitions, key revoke, service delete; not key usage", async () => {
    const s = await ownerWithKey(t);
    const agent = await newAgent(s.namespace);
    const claimKey = JSON.stringify([s.serviceId, s.namespace, agent.publicKey]);

    let from = await lastSeq();
    const submitted = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
    expect(submitted.status).toBe(201);
    expect(
      (await s.client.post<Claim>(`/v1/claims/${submitted.body.claim_id}/approve`)).status,
    ).toBe(200);
    expect(await changesAfter(from)).toEqual([
      { kind: "claim", key: claimKey },
      { kind: "claim", key: claimKey },
    ]);

    from = await lastSeq();
    await t.server.ctx.keyUsage.flush(t.server.ctx.database); // last_used_at only
    expect(await changesAfter(from)).toEqual([]);

    const keys = (await s.client.get<ApiKeyList>(`/v1/services/${s.serviceId}/keys`)).body.keys;
    const hash = await t.server.ctx.database.client.execute({
      sql: "SELECT key_hash FROM api_keys WHERE id = ?",
      args: [keys[0]!.id],
    });
    expect(
      (await s.client.delete<ApiKey>(`/v1/services/${s.serviceId}/keys/${keys[0]!.id}`)).status,
    ).toBe(200);
    expect(await changesAfter(from)).toEqual([
      { kind: "api_key", key: String(hash.rows[0]!.key_hash) },
    ]);

    from = await lastSeq();
    expect((await s.client.delete<Deleted>(`/v1/services/${s.serviceId}`)).status).toBe(200);
    expect(await changesAfter(from)).toContainEqual({ kind: "service", key: s.slug });
  });

  test("retention prunes rows older than ten minutes only", async () => {
    const db = t.server.ctx.database.client;
    await db.execute({
      sql: "INSERT INTO cache_changes (kind, key, at) VALUES ('owner', 'old-ns', ?), ('owner', 'new-ns', ?)",
      args: [Date.now() - 11 * 60_000, Date.now()],
    });
    expect(await pruneChangeLog(t.server.ctx)).toBeGreaterThanOrEqual(1);
    const left = await db.execute("SELECT key FROM cache_changes WHERE kind = 'owner'");
    expect(left.rows.map((r) => r.key)).toContain("new-ns");
    expect(left.rows.map((r) => r.key)).not.toContain("old-ns");
  });

  test("a follower that finds a gap (rows pruned before it read them) drops every cache", async () => {
    const follower = new ChangeLogFollower(t.server.ctx);
    await follower.start();
    follower.stop();
    const ctx = t.server.ctx;
    const db = ctx.database.client;
    // Rows that name nothing cached: only the gap can make the follower drop the entry below.
    await db.execute("INSERT INTO cache_changes (kind, key, at) VALUES ('api_key', 'gap-1', 0)");
    await db.execute("INSERT INTO cache_changes (kind, key, at) VALUES ('api_key', 'gap-2', 0)");
    // Two rows after the follower's position; the first disappears unread.
    await db.execute("DELETE FROM cache_changes WHERE key = 'gap-1'");
    let lookups = 0;
    const lookup = async () => {
      lookups++;
      return {
        authorized: true as const,
        claim_id: "claim_x",
        approved_at: null,
        status: "approved" as const,
      };
    };
    await ctx.verifyCache.load("some-key", lookup);
    await ctx.verifyCache.load("some-key", lookup);
    expect(lookups).toBe(1); // cached
    await follower.follow();
    await ctx.verifyCache.load("some-key", lookup);
    expect(lookups).toBe(2); // dropped, so looked up again
  });
});
