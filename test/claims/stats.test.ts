/**
 * GET /v1/namespaces/{ns}/stats/claims: authorization requests per UTC day by outcome. Claims are
 * submitted over HTTP on a ManualClock, so each lands on a chosen day; the counts are exact.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { ClaimStatsModel } from "../../src/claims/stats.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { expectError, expectValidation } from "../helpers/assertions.ts";
import { ManualClock, startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";

type Stats = typeof ClaimStatsModel.static;

const DAY = 86_400_000;
const TODAY = Date.parse("2026-03-04T12:00:00.000Z");
const clock = new ManualClock(TODAY - 3 * DAY);
let t: TestServer;
let s: ServiceSetup;
let other: ServiceSetup;

/** Submits a claim at `at` (the agent signs with that time too) and returns its id. */
async function claimAt(setup: ServiceSetup, at: number): Promise<string> {
  clock.ms = at;
  const agent = await newAgent(setup.namespace, at);
  const res = await submitClaim(
    t,
    agent,
    setup.apiKey,
    setup.slug,
    {},
    {
      created: Math.floor(at / 1000),
    },
  );
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { claim_id: string }).claim_id;
}

async function decide(id: string, action: "approve" | "reject" | "revoke", at: number) {
  clock.ms = at;
  const res = await s.client.post<unknown>(`/v1/claims/${id}/${action}`, {});
  if (res.status !== 200) throw new Error(`${action}: ${res.status} ${JSON.stringify(res.body)}`);
}

const zero = {
  total: 0,
  pending: 0,
  approved: 0,
  auto_approved: 0,
  rejected: 0,
  revoked: 0,
  expired: 0,
};

beforeAll(async () => {
  t = await startTestServer({ clock });
  s = await ownerWithKey(t);
  other = await ownerWithKey(t);
  // 2 March: one approved, one rejected.
  const c1 = await claimAt(s, TODAY - 2 * DAY - 3 * 3_600_000);
  await decide(c1, "approve", TODAY - 2 * DAY);
  const c2 = await claimAt(s, TODAY - 2 * DAY + 3_600_000);
  await decide(c2, "reject", TODAY - DAY);
  // 3 March: one approved and revoked the next day, one still pending (just before midnight).
  const c3 = await claimAt(s, TODAY - DAY - 11 * 3_600_000);
  await decide(c3, "approve", TODAY - DAY);
  await decide(c3, "revoke", TODAY - 3_600_000);
  await claimAt(s, TODAY - 12 * 3_600_000 - 1);
  // 4 March: one auto-approved by the namespace's policy; another namespace's claim.
  clock.ms = TODAY - 60_000;
  const policy = await s.client.put<unknown>(`/v1/namespaces/${s.namespace}/policy`, {
    auto_approve_services: [s.slug],
  });
  expect(policy.status).toBe(200);
  await claimAt(s, TODAY - 12 * 3_600_000);
  await claimAt(other, TODAY - 3_600_000);
  clock.ms = TODAY;
});
afterAll(() => t.close());

describe("claim stats per day", () => {
  test("exact counts per UTC day by current outcome, zero-filled, oldest first", async () => {
    const res = await s.client.get<Stats>(`/v1/namespaces/${s.namespace}/stats/claims?days=4`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      namespace: s.namespace,
      days: 4,
      from: "2026-03-01T00:00:00.000Z",
      to: "2026-03-05T00:00:00.000Z",
      buckets: [
        { day: "2026-03-01", ...zero },
        { day: "2026-03-02", ...zero, total: 2, approved: 1, rejected: 1 },
        { day: "2026-03-03", ...zero, total: 2, revoked: 1, pending: 1 },
        { day: "2026-03-04", ...zero, total: 1, auto_approved: 1 },
      ],
    });
  });

  test("the window ends today: days=1 is today only; the default is 30 days", async () => {
    const one = await s.client.get<Stats>(`/v1/namespaces/${s.namespace}/stats/claims?days=1`);
    expect(one.body.buckets).toEqual([{ day: "2026-03-04", ...zero, total: 1, auto_approved: 1 }]);
    const all = await s.client.get<Stats>(`/v1/namespaces/${s.namespace}/stats/claims`);
    expect(all.body.days).toBe(30);
    expect(all.body.buckets).toHaveLength(30);
    expect(all.body.buckets[0]!.day).toBe("2026-02-03");
    expect(all.body.buckets.reduce((n, b) => n + b.total, 0)).toBe(5);
    const max = await s.client.get<Stats>(`/v1/namespaces/${s.namespace}/stats/claims?days=90`);
    expect(max.body.buckets).toHaveLength(90);
  });

  test("another namespace sees only its own requests; a foreign namespace is 404", async () => {
    const theirs = await other.client.get<Stats>(
      `/v1/namespaces/${other.namespace}/stats/claims?days=1`,
    );
    expect(theirs.body.buckets).toEqual([{ day: "2026-03-04", ...zero, total: 1, pending: 1 }]);
    expectError(
      await other.client.get<unknown>(`/v1/namespaces/${s.namespace}/stats/claims`),
      404,
      "NOT_FOUND",
    );
    const anonymous = await fetch(`${t.url}/v1/namespaces/${s.namespace}/stats/claims`);
    expect(anonymous.status).toBe(401);
  });

  test("days outside 1–90 or not a decimal integer is a 400 on the field", async () => {
    for (const bad of ["0", "91", "abc", "1.5", "-1", "1e1", ""]) {
      const res = await s.client.get<unknown>(
        `/v1/namespaces/${s.namespace}/stats/claims?days=${encodeURIComponent(bad)}`,
      );
      expectValidation(res, "days");
    }
    expectValidation(
      await s.client.get<unknown>(`/v1/namespaces/${s.namespace}/stats/claims?dayz=3`),
    );
  });
});
