/**
 * A webhook secret this server cannot decrypt (sealed under another master key — two instances
 * with different SIGILUM_SECRET_KEYs, a restored database without its key) fails visibly: the
 * test event answers a clear error with a code, and deliveries fail with the reason recorded.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  ClaimSubmitted,
  Delivery,
  DeliveryDetail,
  DeliveryList,
  WebhookCreated,
  WebhookList,
} from "../helpers/types.ts";

describe("webhook secrets the server cannot decrypt", () => {
  let t: TestServer;
  let s: ServiceSetup;
  const receiver = startReceiver();
  let hooks = "";
  beforeAll(async () => {
    t = await startTestServer({
      env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" },
    });
    s = await ownerWithKey(t);
    hooks = `/v1/services/${s.serviceId}/webhooks`;
    const hook = await s.client.post<WebhookCreated>(hooks, { url: `${receiver.url}/hook` });
    expect(hook.status).toBe(201);
    // As if another instance, holding another master key, had sealed it.
    const db = createClient({ url: `file:${join(t.dataDir, "sigilum.db")}` });
    await db.execute({
      sql: "UPDATE webhooks SET secret_key_id = 'deadbeef' WHERE id = ?",
      args: [hook.body.id],
    });
    db.close();
  });
  afterAll(async () => {
    await t.close();
    receiver.stop();
  });

  async function webhookId(): Promise<string> {
    return (await s.client.get<WebhookList>(hooks)).body.webhooks[0]!.id;
  }

  test("the test event answers 500 SECRET_UNAVAILABLE, and the delivery log says why", async () => {
    const id = await webhookId();
    const res = await s.client.post<ApiErrorBody>(`${hooks}/${id}/test`);
    expect(res.status).toBe(500);
    expect(res.body.code).toBe("SECRET_UNAVAILABLE");
    expect(res.body.error).toContain("SIGILUM_SECRET_KEY");
    // The key ids are for the operator's log, not for owners.
    expect(JSON.stringify(res.body)).not.toContain("deadbeef");
    const logged = t.logs
      .map((l) => JSON.parse(l))
      .find((l) => l.msg === "cannot decrypt webhook secret");
    expect(logged.error).toContain("deadbeef");
    const list = await s.client.get<DeliveryList>(`${hooks}/${id}/deliveries`);
    const [delivery] = list.body.deliveries;
    expect(delivery).toMatchObject({ event: "webhook.test", status: "failed" });
    expect(delivery!.last_error).toStartWith("cannot decrypt webhook secret");
    const detail = await s.client.get<DeliveryDetail>(`${hooks}/${id}/deliveries/${delivery!.id}`);
    expect(detail.body.attempts).toHaveLength(1);
    expect(detail.body.attempts[0]!.error).toStartWith("cannot decrypt webhook secret");
    expect(receiver.received).toHaveLength(0);
  });

  test("a delivery fails at once with the reason, instead of sitting pending", async () => {
    const id = await webhookId();
    await submitClaim<ClaimSubmitted>(t, await newAgent(s.namespace), s.apiKey, s.slug);
    const deadline = Date.now() + 5_000;
    let delivery: Delivery | undefined;
    while (Date.now() < deadline) {
      const list = await s.client.get<DeliveryList>(`${hooks}/${id}/deliveries?limit=200`);
      delivery = list.body.deliveries.find((d) => d.event === "request.submitted");
      if (delivery?.status !== "pending" && delivery !== undefined) break;
      await Bun.sleep(50);
    }
    expect(delivery).toMatchObject({ status: "failed", attempt_count: 1 });
    expect(delivery!.last_error).toStartWith("cannot decrypt webhook secret");
    const detail = await s.client.get<DeliveryDetail>(`${hooks}/${id}/deliveries/${delivery!.id}`);
    expect(detail.body.attempts[0]!.error).toContain("SIGILUM_SECRET_KEY");
    expect(receiver.received).toHaveLength(0);
  });
});
