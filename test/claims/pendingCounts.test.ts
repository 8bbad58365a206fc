/**
 * The pending caps read per-(namespace, service) counts kept by triggers (issue 11: counting
 * pending claims on every submission grew with the number pending). The counts must equal a real
 * count after every path that moves a claim in or out of `pending`: submission, auto-rejection,
 * approval, rejection, a policy block, a deleted service (its claims are orphaned) and a deleted
 * account.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Agent, newAgent, submitClaim } from "../helpers/agent.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { ApiKeyCreated, Claim, ClaimSubmitted, Deleted, Service } from "../helpers/types.ts";

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({
    env: { SIGILUM_MAX_PENDING_CLAIMS: "3", SIGILUM_MAX_PENDING_CLAIMS_PER_NAMESPACE: "5" },
  });
});

afterAll(async () => {
  await t?.close();
});

type Counts = Record<string, number>;

async function rows(sql: string): Promise<Counts> {
  const rs = await t.server.ctx.database.client.execute(sql);
  const out: Counts = {};
  for (const r of rs.rows) out[`${r.namespace}/${r.service_id}`] = Number(r.n);
  return out;
}

/** The trigger-kept counts and a real count of pending claims with a service. */
async function bothCounts() {
  return {
    kept: await rows("SELECT namespace, service_id, n FROM pending_claim_counts"),
    real: await rows(`SELECT namespace, service_id, count(*) AS n FROM claims
      WHERE status = 'pending' AND service_id IS NOT NULL GROUP BY namespace, service_id`),
  };
}

async function expectCountsRight() {
  const { kept, real } = await bothCounts();
  expect(kept).toEqual(real);
  return kept;
}

async function submit(s: ServiceSetup, slug: string, apiKey: string, agent?: Agent) {
  const res = await submitClaim<ClaimSubmitted>(
    t,
    agent ?? (await newAgent(s.namespace)),
    apiKey,
    slug,
  );
  expect(res.status).toBe(201);
  return res.body;
}

async function secondService(s: ServiceSetup) {
  const slug = `second-${s.slug}`;
  const service = await s.client.post<Service>("/v1/services", { slug, name: "Second" });
  const key = await s.client.post<ApiKeyCreated>(`/v1/services/${service.body.id}/keys`);
  return { id: service.body.id, slug, apiKey: key.body.key };
}

describe("pending claim counts", () => {
  test("follow submissions, caps, decisions, a block, a deleted service and a deleted account", async () => {
    const s = await ownerWithKey(t);
    const other = await secondService(s);
    const a = [];
    for (let i = 0; i < 4; i++) a.push(await submit(s, s.slug, s.apiKey));
    // The per-service cap (3) rejected the fourth at once.
    expect(a.map((c) => c.status)).toEqual(["pending", "pending", "pending", "rejected"]);
    const b = [];
    for (let i = 0; i < 3; i++) b.push(await submit(s, other.slug, other.apiKey));
    // The namespace brake (5): 3 + 2 pending, the third of the second service is rejected.
    expect(b.map((c) => c.status)).toEqual(["pending", "pending", "rejected"]);
    let kept = await expectCountsRight();
    expect(kept[`${s.namespace}/${s.serviceId}`]).toBe(3);
    expect(kept[`${s.namespace}/${other.id}`]).toBe(2);

    expect((await s.client.post<Claim>(`/v1/claims/${a[0]!.claim_id}/approve`)).status).toBe(200);
    expect((await s.client.post<Claim>(`/v1/claims/${a[1]!.claim_id}/reject`)).status).toBe(200);
    kept = await expectCountsRight();
    expect(kept[`${s.namespace}/${s.serviceId}`]).toBe(1);
    // A freed slot is usable again.
    expect((await submit(s, other.slug, other.apiKey)).status).toBe("pending");
    await expectCountsRight();

    // Blocking the second service frees the namespace brake without touching its counts.
    const block = await s.client.put(`/v1/namespaces/${s.namespace}/policy`, {
      blocked_services: [other.slug],
    });
    expect(block.status).toBe(200);
    expect((await submit(s, s.slug, s.apiKey)).status).toBe("pending");
    await expectCountsRight();

    // A deleted service orphans its claims: they stop counting.
    expect((await s.client.delete<Deleted>(`/v1/services/${other.id}`)).status).toBe(200);
    kept = await expectCountsRight();
    expect(kept[`${s.namespace}/${other.id}`]).toBeUndefined();

    // A deleted account takes its claims with it.
    expect((await s.client.delete<Deleted>("/v1/auth/account")).status).toBe(200);
    kept = await expectCountsRight();
    expect(Object.keys(kept).filter((k) => k.startsWith(`${s.namespace}/`))).toEqual([]);
  });

  test("counts stay exact under concurrent submissions (kept in the commit that writes each claim)", async () => {
    const s = await ownerWithKey(t);
    const agents = await Promise.all(Array.from({ length: 8 }, () => newAgent(s.namespace)));
    const results = await Promise.all(agents.map((agent) => submit(s, s.slug, s.apiKey, agent)));
    const pending = results.filter((c) => c.status === "pending").length;
    // Facts are read before the write, so a burst may pass the cap by the requests in flight
    // together — but every count stays exact.
    expect(pending).toBeGreaterThanOrEqual(3);
    const kept = await expectCountsRight();
    expect(kept[`${s.namespace}/${s.serviceId}`]).toBe(pending);
  });
});
