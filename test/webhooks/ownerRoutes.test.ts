import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { verifyWebhookSignature } from "../../src/index.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { expectError, expectValidation, ISO_MS } from "../helpers/assertions.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { queryRows } from "../helpers/rows.ts";
import {
  ApiClient,
  ManualClock,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  ApiKeyCreated,
  Claim,
  ClaimSubmitted,
  Deleted,
  Delivery,
  DeliveryDetail,
  DeliveryList,
  Requeued,
  Service,
  Webhook,
  WebhookCreated,
  WebhookTestResult,
} from "../helpers/types.ts";

// The owner's webhook delivery routes (http-api.md §4): test, deliveries (list, get, redeliver),
// recover, and what disabling or deleting does to pending deliveries. Real server, ManualClock.

const ENV = {
  SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
  SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true",
  SIGILUM_WEBHOOK_TIMEOUT_MS: "500",
};
const HOUR = 3_600_000;
const DLV_RE = /^dlv_[0-9A-Za-z]{24}$/;
const EVT_RE = /^evt_[0-9A-Za-z]{24}$/;
const DELIVERY_KEYS = [
  "attempt_count",
  "completed_at",
  "created_at",
  "event",
  "event_id",
  "id",
  "last_error",
  "last_status_code",
  "next_attempt_at",
  "status",
];
const ATTEMPT_KEYS = [
  "attempt",
  "duration_ms",
  "error",
  "response_excerpt",
  "started_at",
  "status_code",
];

const clock = new ManualClock();
let t: TestServer;
let s: ServiceSetup;

beforeAll(async () => {
  t = await startTestServer({ clock, env: ENV });
  s = await ownerWithKey(t);
});
afterAll(async () => {
  await t.close();
});

const drain = () => t.server.ctx.deliveryWorker.drain();
const iso = (ms = clock.now()) => new Date(ms).toISOString();

interface Svc {
  serviceId: string;
  slug: string;
  apiKey: string;
}

async function freshService(owner: ServiceSetup = s): Promise<Svc> {
  const slug = uniqueName("own");
  const svc = await owner.client.post<Service>("/v1/services", { slug, name: "Owner routes" });
  expect(svc.status).toBe(201);
  const key = await owner.client.post<ApiKeyCreated>(`/v1/services/${svc.body.id}/keys`);
  expect(key.status).toBe(201);
  return { serviceId: svc.body.id, slug, apiKey: key.body.key };
}

async function hookOn(svc: Svc, url: string, owner: ServiceSetup = s) {
  const res = await owner.client.post<WebhookCreated>(`/v1/services/${svc.serviceId}/webhooks`, {
    url,
  });
  expect(res.status).toBe(201);
  return {
    id: res.body.id as string,
    secret: res.body.secret as string,
    base: `/v1/services/${svc.serviceId}/webhooks/${res.body.id}`,
  };
}

async function submit(svc: Svc, owner: ServiceSetup = s) {
  const agent = await newAgent(owner.namespace, clock.now());
  const res = await submitClaim<ClaimSubmitted>(
    t,
    agent,
    svc.apiKey,
    svc.slug,
    {},
    {
      created: Math.floor(clock.now() / 1000),
    },
  );
  expect(res.status).toBe(201);
  return res.body as { claim_id: string };
}

async function deliveriesOf(base: string, query = "", owner: ServiceSetup = s) {
  const res = await owner.client.get<DeliveryList>(`${base}/deliveries${query}`);
  expect(res.status).toBe(200);
  return res.body as {
    deliveries: Record<string, unknown>[];
    pagination: { limit: number; offset: number; total: number; has_more: boolean };
  };
}

async function deliveryRowCount(webhookId: string): Promise<number> {
  const [row] = await queryRows(t, "SELECT count(*) AS n FROM deliveries WHERE webhook_id = ?", [
    webhookId,
  ]);
  return Number(row?.n);
}

describe("POST …/webhooks/{id}/test", () => {
  test("sends webhook.test now and returns the attempt; the receiver can verify it", async () => {
    const rx = startReceiver(() => new Response("thanks", { status: 200 }));
    try {
      const svc = await freshService();
      const hook = await hookOn(svc, `${rx.url}/test-ok`);
      const res = await s.client.post<WebhookTestResult>(`${hook.base}/test`);
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual([
        "delivery_id",
        "duration_ms",
        "status_code",
        "success",
      ]);
      expect(res.body).toMatchObject({ status_code: 200, success: true });
      expect(res.body.delivery_id).toMatch(DLV_RE);
      expect(Number.isInteger(res.body.duration_ms)).toBe(true);
      // Sent during the call, not by the worker.
      expect(rx.received).toHaveLength(1);
      const got = rx.received[0]!;
      const body = JSON.parse(got.body);
      expect(Object.keys(body).sort()).toEqual(["data", "event", "id", "timestamp"]);
      expect(body).toMatchObject({
        event: "webhook.test",
        timestamp: iso(),
        data: { webhook_id: hook.id, service: svc.slug },
      });
      expect(body.id).toMatch(EVT_RE);
      expect(got.headers["x-sigilum-event"]).toBe("webhook.test");
      expect(got.headers["x-sigilum-event-id"]).toBe(body.id);
      expect(got.headers["x-sigilum-delivery-id"]).toBe(res.body.delivery_id);
      expect(got.headers["x-sigilum-attempt"]).toBe("1");
      const sig = got.headers["x-sigilum-signature"]!;
      const ts = sig.split(",")[0]!.slice(2);
      const expected = createHmac("sha256", hook.secret).update(`${ts}.${got.body}`).digest("hex");
      expect(sig).toBe(`t=${ts},v1=${expected}`);
      expect(
        verifyWebhookSignature({
          secret: hook.secret,
          header: sig,
          body: got.body,
          nowMs: clock.now(),
        }),
      ).toEqual({ ok: true, timestamp: Number(ts) });

      const detail = await s.client.get<DeliveryDetail>(
        `${hook.base}/deliveries/${res.body.delivery_id}`,
      );
      expect(detail.status).toBe(200);
      expect(detail.body).toMatchObject({
        id: res.body.delivery_id,
        event_id: body.id,
        event: "webhook.test",
        status: "succeeded",
        attempt_count: 1,
        last_status_code: 200,
        last_error: null,
      });
      // The payload that was sent, as the receiver got it (dashboard.md §2.6).
      expect(detail.body.payload).toEqual(JSON.parse(got.body));
      expect(detail.body.attempts).toHaveLength(1);
      expect(detail.body.attempts[0]).toMatchObject({
        attempt: 1,
        status_code: 200,
        error: null,
        response_excerpt: "thanks",
      });
    } finally {
      rx.stop();
    }
  });

  test("receiver answering 500 → success false, error http_500; recorded failed; never retried", async () => {
    const rx = startReceiver(() => new Response("nope", { status: 500 }));
    try {
      const svc = await freshService();
      const hook = await hookOn(svc, `${rx.url}/test-500`);
      const res = await s.client.post<WebhookTestResult>(`${hook.base}/test`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        delivery_id: res.body.delivery_id,
        status_code: 500,
        duration_ms: res.body.duration_ms,
        success: false,
        error: "http_500",
      });
      expect(rx.received).toHaveLength(1);
      const detail = await s.client.get<DeliveryDetail>(
        `${hook.base}/deliveries/${res.body.delivery_id}`,
      );
      expect(detail.body).toMatchObject({
        status: "failed",
        last_status_code: 500,
        last_error: "http_500",
      });
      expect(detail.body.attempts[0]!.response_excerpt).toBe("nope");
      clock.advance(HOUR);
      await drain();
      expect(rx.received).toHaveLength(1);
      // The test route does not count toward the webhook's failure bookkeeping.
      const hookNow = await s.client.get<Webhook>(hook.base);
      expect(hookNow.body).toMatchObject({ enabled: true, consecutive_failures: 0 });
    } finally {
      rx.stop();
    }
  });

  test("unreachable receiver → status_code null, error connection_refused", async () => {
    const probe = startReceiver();
    const port = probe.port;
    probe.stop();
    const svc = await freshService();
    const hook = await hookOn(svc, `http://127.0.0.1:${port}/gone`);
    const res = await s.client.post<WebhookTestResult>(`${hook.base}/test`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status_code: null,
      success: false,
      error: "connection_refused",
    });
  });
});

describe("GET …/deliveries and …/deliveries/{id}", () => {
  test("status filter, pagination (newest first), detail with attempts; bad query → 400", async () => {
    let status = 200;
    const rx = startReceiver(() => new Response("", { status }));
    try {
      const svc = await freshService();
      const hook = await hookOn(svc, `${rx.url}/list`);
      // 3 succeeded, 1 failed (test event), 1 pending (retrying), created 1 s apart.
      for (let i = 0; i < 3; i++) {
        await submit(svc);
        await drain();
        clock.advance(1_000);
      }
      status = 500;
      const failedTest = await s.client.post<WebhookTestResult>(`${hook.base}/test`);
      expect(failedTest.body.success).toBe(false);
      clock.advance(1_000);
      await submit(svc);
      await drain();
      expect(rx.received).toHaveLength(5);

      const all = await deliveriesOf(hook.base);
      expect(all.pagination).toEqual({ limit: 50, offset: 0, total: 5, has_more: false });
      for (const d of all.deliveries) {
        expect(Object.keys(d).sort()).toEqual(DELIVERY_KEYS);
        expect(d.created_at).toMatch(ISO_MS);
      }
      const created = all.deliveries.map((d) => Date.parse(d.created_at as string));
      expect(created).toEqual([...created].sort((a, b) => b - a));
      expect(new Set(created).size).toBe(5);
      expect(all.deliveries.map((d) => d.status)).toEqual([
        "pending",
        "failed",
        "succeeded",
        "succeeded",
        "succeeded",
      ]);

      const bySt = async (st: string) =>
        (await deliveriesOf(hook.base, `?status=${st}`)).deliveries;
      expect((await bySt("succeeded")).map((d) => d.status)).toEqual([
        "succeeded",
        "succeeded",
        "succeeded",
      ]);
      const failed = await bySt("failed");
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({
        id: failedTest.body.delivery_id,
        event: "webhook.test",
        last_error: "http_500",
      });
      const pending = await bySt("pending");
      expect(pending).toHaveLength(1);
      expect(pending[0]).toMatchObject({ event: "request.submitted", attempt_count: 1 });
      expect(await bySt("cancelled")).toEqual([]);

      const p1 = await deliveriesOf(hook.base, "?limit=2");
      const p2 = await deliveriesOf(hook.base, "?limit=2&offset=2");
      const p3 = await deliveriesOf(hook.base, "?limit=2&offset=4");
      expect(p1.pagination).toEqual({ limit: 2, offset: 0, total: 5, has_more: true });
      expect(p2.pagination).toEqual({ limit: 2, offset: 2, total: 5, has_more: true });
      expect(p3.pagination).toEqual({ limit: 2, offset: 4, total: 5, has_more: false });
      expect([...p1.deliveries, ...p2.deliveries, ...p3.deliveries].map((d) => d.id)).toEqual(
        all.deliveries.map((d) => d.id),
      );
      const sp = await deliveriesOf(hook.base, "?status=succeeded&limit=1&offset=1");
      expect(sp.pagination).toEqual({ limit: 1, offset: 1, total: 3, has_more: true });

      for (const q of [
        "?status=bogus",
        "?status=SUCCEEDED",
        "?limit=0",
        "?limit=201",
        "?limit=abc",
        "?offset=-1",
        "?colour=red",
      ]) {
        const bad = await s.client.get<ApiErrorBody>(`${hook.base}/deliveries${q}`);
        expectError(bad, 400, "VALIDATION_ERROR");
      }

      const id = pending[0]!.id as string;
      const detail = await s.client.get<DeliveryDetail>(`${hook.base}/deliveries/${id}`);
      expect(detail.status).toBe(200);
      expect(Object.keys(detail.body).sort()).toEqual(
        [...DELIVERY_KEYS, "attempts", "payload"].sort(),
      );
      expect(detail.body.attempts).toHaveLength(1);
      expect(Object.keys(detail.body.attempts[0]!).sort()).toEqual(ATTEMPT_KEYS);
      expect(detail.body.attempts[0]).toMatchObject({
        attempt: 1,
        status_code: 500,
        started_at: iso(),
      });
      expectError(
        await s.client.get<ApiErrorBody>(`${hook.base}/deliveries/dlv_${"x".repeat(24)}`),
        404,
        "NOT_FOUND",
      );
      await s.client.patch<Webhook>(hook.base, { enabled: false });
    } finally {
      rx.stop();
    }
  });
});

describe("redeliver", () => {
  test("202 Delivery with a new id and the same event id; sent again; 409 when the webhook is disabled", async () => {
    const rx = startReceiver();
    try {
      const svc = await freshService();
      const hook = await hookOn(svc, `${rx.url}/redeliver`);
      await submit(svc);
      await drain();
      const [original] = (await deliveriesOf(hook.base)).deliveries;
      expect(original!.status).toBe("succeeded");
      clock.advance(1_000);
      const res = await s.client.post<Delivery>(
        `${hook.base}/deliveries/${original!.id}/redeliver`,
      );
      expect(res.status).toBe(202);
      expect(Object.keys(res.body).sort()).toEqual(DELIVERY_KEYS);
      expect(res.body).toMatchObject({
        event_id: original!.event_id,
        event: "request.submitted",
        status: "pending",
        attempt_count: 0,
        created_at: iso(),
        completed_at: null,
      });
      expect(res.body.id).toMatch(DLV_RE);
      expect(res.body.id).not.toBe(original!.id);
      await drain();
      expect(rx.received).toHaveLength(2);
      expect(rx.received[1]!.body).toBe(rx.received[0]!.body);
      expect(rx.received[1]!.headers["x-sigilum-event-id"]).toBe(original!.event_id as string);
      expect(rx.received[1]!.headers["x-sigilum-delivery-id"]).toBe(res.body.id);
      const again = await s.client.get<DeliveryDetail>(`${hook.base}/deliveries/${res.body.id}`);
      expect(again.body).toMatchObject({ status: "succeeded", attempt_count: 1 });
      expect((await deliveriesOf(hook.base)).pagination.total).toBe(2);

      expect((await s.client.patch<Webhook>(hook.base, { enabled: false })).status).toBe(200);
      const refused = await s.client.post<ApiErrorBody>(
        `${hook.base}/deliveries/${original!.id}/redeliver`,
      );
      expectError(refused, 409, "CONFLICT");
      await drain();
      expect(rx.received).toHaveLength(2);
      expectError(
        await s.client.post<ApiErrorBody>(
          `${hook.base}/deliveries/dlv_${"y".repeat(24)}/redeliver`,
        ),
        404,
        "NOT_FOUND",
      );
    } finally {
      rx.stop();
    }
  });
});

describe("disable and delete stop deliveries", () => {
  test("PATCH enabled:false cancels pending deliveries; nothing is sent afterwards", async () => {
    const rx = startReceiver(() => new Response("", { status: 500 }));
    try {
      const svc = await freshService();
      const hook = await hookOn(svc, `${rx.url}/disable`);
      await submit(svc);
      await submit(svc);
      await drain();
      expect(rx.received).toHaveLength(2);
      const pending = (await deliveriesOf(hook.base, "?status=pending")).deliveries;
      expect(pending).toHaveLength(2);
      const off = await s.client.patch<Webhook>(hook.base, { enabled: false });
      expect(off.status).toBe(200);
      expect(off.body).toMatchObject({ enabled: false, disabled_reason: "manual" });
      for (const d of pending) {
        const detail = await s.client.get<DeliveryDetail>(`${hook.base}/deliveries/${d.id}`);
        expect(detail.body).toMatchObject({
          status: "cancelled",
          next_attempt_at: null,
          completed_at: iso(),
          attempt_count: 1,
        });
      }
      expect((await deliveriesOf(hook.base, "?status=pending")).deliveries).toEqual([]);
      await submit(svc);
      clock.advance(2 * 86_400_000);
      await drain();
      expect(rx.received).toHaveLength(2);
      expect((await deliveriesOf(hook.base)).pagination.total).toBe(2);
    } finally {
      rx.stop();
    }
  });

  test("DELETE webhook → its deliveries are gone and nothing more is sent", async () => {
    const rx = startReceiver(() => new Response("", { status: 500 }));
    try {
      const svc = await freshService();
      const hook = await hookOn(svc, `${rx.url}/delete`);
      await submit(svc);
      await drain();
      expect(rx.received).toHaveLength(1);
      const [d] = (await deliveriesOf(hook.base)).deliveries;
      expect(await deliveryRowCount(hook.id)).toBe(1);
      const del = await s.client.delete<Deleted>(hook.base);
      expect(del.status).toBe(200);
      expect(del.body).toEqual({ id: hook.id, deleted: true });
      expect(await deliveryRowCount(hook.id)).toBe(0);
      expectError(await s.client.get<ApiErrorBody>(`${hook.base}/deliveries`), 404, "NOT_FOUND");
      expectError(
        await s.client.get<ApiErrorBody>(`${hook.base}/deliveries/${d!.id}`),
        404,
        "NOT_FOUND",
      );
      await submit(svc);
      clock.advance(86_400_000);
      await drain();
      expect(rx.received).toHaveLength(1);
    } finally {
      rx.stop();
    }
  });

  test("DELETE service → nothing more is sent to its webhooks, even for its orphaned claims", async () => {
    const rx = startReceiver(() => new Response("", { status: 500 }));
    try {
      const svc = await freshService();
      const hook = await hookOn(svc, `${rx.url}/svc-delete`);
      const claim = await submit(svc);
      await drain();
      const approved = await s.client.post<Claim>(`/v1/claims/${claim.claim_id}/approve`);
      expect(approved.status).toBe(200);
      await drain();
      expect(rx.received).toHaveLength(2);
      const del = await s.client.delete<Deleted>(`/v1/services/${svc.serviceId}`);
      expect(del.status).toBe(200);
      expect(await deliveryRowCount(hook.id)).toBe(0);
      // The orphaned claim can still be revoked; its event goes nowhere.
      const revoked = await s.client.post<Claim>(`/v1/claims/${claim.claim_id}/revoke`);
      expect(revoked.status).toBe(200);
      clock.advance(86_400_000);
      await drain();
      expect(rx.received).toHaveLength(2);
      // …and no delivery was queued for it.
      expect(await deliveryRowCount(hook.id)).toBe(0);
    } finally {
      rx.stop();
    }
  });
});

describe("isolation and authentication", () => {
  test("another owner's webhook and delivery ids → 404 on every delivery route, with no side effect", async () => {
    const rx = startReceiver(() => new Response("", { status: 500 }));
    try {
      const other = await ownerWithKey(t);
      const theirSvc = await freshService(other);
      const theirs = await hookOn(theirSvc, `${rx.url}/theirs`, other);
      await submit(theirSvc, other);
      await drain();
      expect(rx.received).toHaveLength(1);
      const [theirDelivery] = (await deliveriesOf(theirs.base, "", other)).deliveries;
      const dlv = theirDelivery!.id as string;

      const mySvc = await freshService();
      const mine = await hookOn(mySvc, `${rx.url}/mine`);
      await submit(mySvc);
      await drain();
      expect(rx.received).toHaveLength(2);
      const [myDelivery] = (await deliveriesOf(mine.base)).deliveries;

      const since = { since: iso(clock.now() - HOUR) };
      const paths = [
        theirs.base, // their service, their webhook
        `/v1/services/${mySvc.serviceId}/webhooks/${theirs.id}`, // my service, their webhook
      ];
      for (const base of paths) {
        expectError(await s.client.get<ApiErrorBody>(`${base}/deliveries`), 404, "NOT_FOUND");
        expectError(
          await s.client.get<ApiErrorBody>(`${base}/deliveries/${dlv}`),
          404,
          "NOT_FOUND",
        );
        expectError(
          await s.client.post<ApiErrorBody>(`${base}/deliveries/${dlv}/redeliver`),
          404,
          "NOT_FOUND",
        );
        expectError(await s.client.post<ApiErrorBody>(`${base}/recover`, since), 404, "NOT_FOUND");
        expectError(await s.client.post<ApiErrorBody>(`${base}/test`), 404, "NOT_FOUND");
      }
      // My webhook, their delivery id.
      expectError(
        await s.client.get<ApiErrorBody>(`${mine.base}/deliveries/${dlv}`),
        404,
        "NOT_FOUND",
      );
      expectError(
        await s.client.post<ApiErrorBody>(`${mine.base}/deliveries/${dlv}/redeliver`),
        404,
        "NOT_FOUND",
      );
      // And the other way round: they cannot reach mine.
      expectError(
        await other.client.get<ApiErrorBody>(`${mine.base}/deliveries/${myDelivery!.id}`),
        404,
        "NOT_FOUND",
      );

      await drain();
      expect(rx.received).toHaveLength(2);
      expect((await deliveriesOf(theirs.base, "", other)).pagination.total).toBe(1);
      expect((await deliveriesOf(mine.base)).pagination.total).toBe(1);
      await s.client.patch<Webhook>(mine.base, { enabled: false });
      await other.client.patch<Webhook>(theirs.base, { enabled: false });
    } finally {
      rx.stop();
    }
  });

  test("no credentials (or a bad token) → 401 on every delivery route", async () => {
    const rx = startReceiver();
    try {
      const svc = await freshService();
      const hook = await hookOn(svc, `${rx.url}/anon`);
      await submit(svc);
      await drain();
      const [d] = (await deliveriesOf(hook.base)).deliveries;
      const anon = new ApiClient(t.url, t.origin);
      const badToken = new ApiClient(t.url, t.origin);
      badToken.bearer = `sgl_pat_${"0".repeat(40)}`;
      for (const client of [anon, badToken]) {
        const calls = [
          client.get<DeliveryList>(`${hook.base}/deliveries`),
          client.get<DeliveryDetail>(`${hook.base}/deliveries/${d!.id}`),
          client.post<Delivery>(`${hook.base}/deliveries/${d!.id}/redeliver`),
          client.post<Requeued>(`${hook.base}/recover`, { since: iso(clock.now() - HOUR) }),
          client.post<WebhookTestResult>(`${hook.base}/test`),
        ];
        for (const res of await Promise.all(calls)) expectError(res, 401, "UNAUTHORIZED");
      }
      await drain();
      expect(rx.received).toHaveLength(1);
      expect((await deliveriesOf(hook.base)).pagination.total).toBe(1);
    } finally {
      rx.stop();
    }
  });
});

describe("recover: bad input", () => {
  test("{} / unknown field / until before since / not a date / wrong content type / bad JSON → 4xx", async () => {
    const svc = await freshService();
    const hook = await hookOn(svc, "http://127.0.0.1:9/never");
    const path = `${hook.base}/recover`;
    const since = iso(clock.now() - HOUR);
    expectValidation(await s.client.post<ApiErrorBody>(path, {}), "since");
    expectValidation(await s.client.post<ApiErrorBody>(path, { since, extra: 1 }));
    expectValidation(
      await s.client.post<ApiErrorBody>(path, { since, until: iso(clock.now() - 2 * HOUR) }),
      "until",
    );
    expectValidation(await s.client.post<ApiErrorBody>(path, { since: "yesterday" }), "since");
    expectValidation(await s.client.post<ApiErrorBody>(path, { since: 1_772_000_000 }), "since");
    expectValidation(await s.client.post<ApiErrorBody>(path, { since, until: "later" }), "until");
    expectError(
      await s.client.post<ApiErrorBody>(path, `{"since":"${since}"}`, {
        "content-type": "text/plain",
      }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    expectError(
      await s.client.post<ApiErrorBody>(path, "{not json", { "content-type": "application/json" }),
      400,
      "INVALID_JSON",
    );
    // A good request on the same webhook is fine (nothing failed: nothing to requeue).
    const ok = await s.client.post<Requeued>(path, { since, until: iso() });
    expect(ok.status).toBe(202);
    expect(ok.body).toEqual({ requeued: 0 });
  });
});
