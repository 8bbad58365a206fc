/**
 * Retries leave on time (webhooks.md §5, last rule): the worker sleeps until the earliest
 * `next_attempt_at`, not only until the next 5 s sweep. Real time, a real server and a receiver
 * that answers 500 twice: each retry must arrive within 300 ms of the time it was scheduled for.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { ClaimSubmitted, DeliveryList, WebhookCreated } from "../helpers/types.ts";

let t: TestServer;
let s: ServiceSetup;
const receiver = startReceiver(
  (_req, index) => new Response("", { status: index < 2 ? 500 : 200 }),
);

beforeAll(async () => {
  t = await startTestServer({
    env: {
      SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
      SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true",
      SIGILUM_WEBHOOK_RETRY_SCHEDULE: "1s,1s,1s",
    },
  });
  s = await ownerWithKey(t);
});

afterAll(async () => {
  await t?.close();
  receiver.stop();
});

/** The delivery's next_attempt_at once its attempt `n` is recorded (polled; bounded). */
async function dueAfterAttempt(base: string, n: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const [d] = (await s.client.get<DeliveryList>(`${base}/deliveries`)).body.deliveries;
    if (d?.attempt_count === n && d.next_attempt_at) return Date.parse(d.next_attempt_at);
    await Bun.sleep(10);
  }
  throw new Error(`attempt ${n} was not recorded`);
}

describe("retry timing", () => {
  test("each retry leaves within 300 ms of its next_attempt_at", async () => {
    const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `${receiver.url}/hook`,
      events: ["request.submitted"],
    });
    expect(hook.status).toBe(201);
    const base = `/v1/services/${s.serviceId}/webhooks/${hook.body.id}`;
    expect(
      (await submitClaim<ClaimSubmitted>(t, await newAgent(s.namespace), s.apiKey, s.slug)).status,
    ).toBe(201);

    for (const attempt of [1, 2]) {
      const due = await dueAfterAttempt(base, attempt);
      const [, ...retries] = await receiver.waitFor(attempt + 1, 8_000);
      const arrived = retries[attempt - 1]!.at;
      console.log(`retry ${attempt}: ${arrived - due} ms after its next_attempt_at`);
      expect(arrived - due).toBeGreaterThanOrEqual(0);
      expect(arrived - due).toBeLessThan(300);
    }
    expect(receiver.received).toHaveLength(3);
  });
});
