import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { ClaimSubmitted, WebhookCreated } from "../helpers/types.ts";

// A receiver written only from the seed page's snippet.
function seedReceiverVerifies(secret: string, header: string, body: string): boolean {
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=") as [string, string]));
  const timestamp = parts.t;
  const payload = `${timestamp}.${body}`;
  const expectedSignature = createHmac("sha256", secret).update(payload).digest("hex");
  return header.split(",").some((p) => p === `v1=${expectedSignature}`);
}

describe("webhook delivery end to end", () => {
  let t: TestServer;
  let s: ServiceSetup;
  const receiver = startReceiver();
  let secret = "";
  beforeAll(async () => {
    t = await startTestServer({
      env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" },
    });
    s = await ownerWithKey(t);
    const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `${receiver.url}/hook`,
    });
    expect(hook.status).toBe(201);
    secret = hook.body.secret;
  });
  afterAll(async () => {
    await t.close();
    receiver.stop();
  });

  test("a submitted claim reaches the receiver signed, with the seed format and headers", async () => {
    const agent = await newAgent(s.namespace);
    const submitted = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
    const [got] = await receiver.waitFor(1);
    expect(got).toBeDefined();
    const body = JSON.parse(got!.body);
    expect(body).toMatchObject({
      event: "request.submitted",
      data: { claim_id: submitted.body.claim_id, status: "pending" },
    });
    expect(got!.headers["x-sigilum-event"]).toBe("request.submitted");
    expect(got!.headers["x-sigilum-event-id"]).toBe(body.id);
    expect(got!.headers["x-sigilum-attempt"]).toBe("1");
    expect(got!.headers["user-agent"]).toMatch(/^Sigilum-Webhooks\//);
    expect(seedReceiverVerifies(secret, got!.headers["x-sigilum-signature"]!, got!.body)).toBe(
      true,
    );
    expect(
      seedReceiverVerifies(secret, got!.headers["x-sigilum-signature"]!, `${got!.body} `),
    ).toBe(false);
  });
});
