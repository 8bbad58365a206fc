/**
 * A finished attempt holds nothing until its timeout (found by the memory bench, issue 11): each
 * attempt's deadline — an `AbortSignal.timeout` with an abort listener and a promise that never
 * settles — stayed alive for the whole SIGILUM_WEBHOOK_TIMEOUT_MS after the attempt ended, so at
 * thousands of deliveries a second tens of thousands of them were live at once.
 */

import { heapStats } from "bun:jsc";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { ClaimSubmitted, WebhookCreated } from "../helpers/types.ts";

const receiver = startReceiver();
let t: TestServer;
let s: ServiceSetup;

beforeAll(async () => {
  t = await startTestServer({
    env: {
      SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
      SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true",
      SIGILUM_WEBHOOK_TIMEOUT_MS: "60000",
    },
  });
  s = await ownerWithKey(t);
  const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
    url: `${receiver.url}/hook`,
  });
  expect(hook.status).toBe(201);
});

afterAll(async () => {
  await t?.close();
  receiver.stop();
});

function liveAbortSignals(): number {
  Bun.gc(true);
  return heapStats().objectTypeCounts.AbortSignal ?? 0;
}

describe("delivery attempts", () => {
  test("release their deadline when they end, not when the timeout would have fired", async () => {
    const before = liveAbortSignals();
    const DELIVERIES = 60;
    for (let i = 0; i < DELIVERIES; i++) {
      const agent = await newAgent(s.namespace);
      const res = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
      expect(res.status).toBe(201);
    }
    await t.server.ctx.deliveryWorker.drain();
    expect(receiver.received.length).toBeGreaterThanOrEqual(DELIVERIES);
    // Each attempt's signal is garbage once the attempt is recorded (a few may be in use elsewhere).
    expect(liveAbortSignals() - before).toBeLessThan(DELIVERIES / 4);
  });
});
