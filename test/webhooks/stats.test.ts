/**
 * GET /v1/namespaces/{ns}/stats/webhooks: delivery outcomes per UTC hour per webhook. Real
 * deliveries to real local receivers (one answers 200, one 500, one 410) on a ManualClock, so
 * each delivery lands in a chosen hour; the counts are exact.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { DeliveryStatsModel } from "../../src/webhooks/stats.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { expectError, expectValidation } from "../helpers/assertions.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { ManualClock, startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";

type Stats = typeof DeliveryStatsModel.static;

const NOON = Date.parse("2026-03-04T12:00:00.000Z");
const clock = new ManualClock(NOON - 90 * 60_000);
const ok = startReceiver(() => new Response("ok"));
const failing = startReceiver(() => new Response("no", { status: 500 }));
const gone = startReceiver(() => new Response("gone", { status: 410 }));
let t: TestServer;
let s: ServiceSetup;
let other: ServiceSetup;
const hookIds: string[] = [];

async function addWebhook(setup: ServiceSetup, url: string): Promise<string> {
  clock.advance(1);
  const res = await setup.client.post<{ id: string }>(`/v1/services/${setup.serviceId}/webhooks`, {
    url,
    events: ["request.submitted"],
  });
  if (res.status !== 201) throw new Error(`webhook: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function claimAt(setup: ServiceSetup, at: number) {
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
}

/** Waits (bounded) until no delivery of the namespace is still unattempted. */
async function settled() {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const rs = await t.server.ctx.database.client.execute(
      "SELECT count(*) AS n FROM deliveries WHERE status = 'pending' AND attempt_count = 0",
    );
    if (Number(rs.rows[0]!.n) === 0) return;
    await Bun.sleep(20);
  }
  throw new Error("deliveries did not settle");
}

const zero = { succeeded: 0, failed: 0, retrying: 0, pending: 0, cancelled: 0 };

beforeAll(async () => {
  t = await startTestServer({
    clock,
    env: {
      SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
      SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true",
      // One retry, a week later: a 500 stays "retrying" for the whole test.
      SIGILUM_WEBHOOK_RETRY_SCHEDULE: "7d",
    },
  });
  s = await ownerWithKey(t);
  other = await ownerWithKey(t);
  hookIds.push(await addWebhook(s, `${ok.url}/hook`));
  hookIds.push(await addWebhook(s, `${failing.url}/hook`));
  hookIds.push(await addWebhook(s, `${gone.url}/hook`));
  await addWebhook(other, `${ok.url}/other`);
  // 10:30: one delivery to each (the 410 disables its webhook: no later deliveries).
  await claimAt(s, NOON - 90 * 60_000);
  await settled();
  // 12:15: two more, to the webhooks still enabled; another namespace's delivery at 12:20.
  await claimAt(s, NOON + 15 * 60_000);
  await settled();
  await claimAt(other, NOON + 20 * 60_000);
  await settled();
  clock.ms = NOON + 30 * 60_000;
});
afterAll(async () => {
  await t.close();
  ok.stop();
  failing.stop();
  gone.stop();
});

describe("webhook delivery stats per hour", () => {
  test("exact outcomes per webhook per UTC hour, zero-filled, oldest first", async () => {
    const res = await s.client.get<Stats>(`/v1/namespaces/${s.namespace}/stats/webhooks?hours=3`);
    expect(res.status).toBe(200);
    const hours = ["10", "11", "12"].map((h) => `2026-03-04T${h}:00:00.000Z`);
    const series = (...counts: Partial<typeof zero>[]) =>
      counts.map((c, i) => ({ hour: hours[i]!, ...zero, ...c }));
    expect(res.body).toEqual({
      namespace: s.namespace,
      hours: 3,
      from: "2026-03-04T10:00:00.000Z",
      to: "2026-03-04T13:00:00.000Z",
      webhooks: [
        {
          webhook_id: hookIds[0]!,
          url: `${ok.url}/hook`,
          service_id: s.serviceId,
          service: s.slug,
          buckets: series({ succeeded: 1 }, {}, { succeeded: 1 }),
        },
        {
          webhook_id: hookIds[1]!,
          url: `${failing.url}/hook`,
          service_id: s.serviceId,
          service: s.slug,
          buckets: series({ retrying: 1 }, {}, { retrying: 1 }),
        },
        {
          webhook_id: hookIds[2]!,
          url: `${gone.url}/hook`,
          service_id: s.serviceId,
          service: s.slug,
          buckets: series({ failed: 1 }, {}, {}),
        },
      ],
    });
  });

  test("the window ends with the current hour; the default is 24 hours", async () => {
    const one = await s.client.get<Stats>(`/v1/namespaces/${s.namespace}/stats/webhooks?hours=1`);
    expect(one.body.webhooks.map((w) => w.buckets)).toEqual([
      [{ hour: "2026-03-04T12:00:00.000Z", ...zero, succeeded: 1 }],
      [{ hour: "2026-03-04T12:00:00.000Z", ...zero, retrying: 1 }],
      [{ hour: "2026-03-04T12:00:00.000Z", ...zero }],
    ]);
    const day = await s.client.get<Stats>(`/v1/namespaces/${s.namespace}/stats/webhooks`);
    expect(day.body.hours).toBe(24);
    expect(day.body.from).toBe("2026-03-03T13:00:00.000Z");
    expect(day.body.webhooks.every((w) => w.buckets.length === 24)).toBe(true);
    const theirs = await other.client.get<Stats>(
      `/v1/namespaces/${other.namespace}/stats/webhooks?hours=1`,
    );
    expect(theirs.body.webhooks).toHaveLength(1);
    expect(theirs.body.webhooks[0]!.buckets).toEqual([
      { hour: "2026-03-04T12:00:00.000Z", ...zero, succeeded: 1 },
    ]);
  });

  test("a foreign namespace is 404; hours outside 1–168 or not an integer is a 400", async () => {
    expectError(
      await other.client.get<unknown>(`/v1/namespaces/${s.namespace}/stats/webhooks`),
      404,
      "NOT_FOUND",
    );
    for (const bad of ["0", "169", "abc", "2.5", "-3", ""]) {
      const res = await s.client.get<unknown>(
        `/v1/namespaces/${s.namespace}/stats/webhooks?hours=${encodeURIComponent(bad)}`,
      );
      expectValidation(res, "hours");
    }
  });
});
