import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decideOutcome } from "../../src/webhooks/retryPolicy.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { expectError, expectValidation } from "../helpers/assertions.ts";
import { type Received, startReceiver } from "../helpers/receiver.ts";
import { ManualClock, startTestServer, type TestServer, uniqueName } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  ApiKeyCreated,
  ClaimSubmitted,
  Deleted,
  Delivery,
  DeliveryDetail,
  DeliveryList,
  Requeued,
  Service,
  Webhook,
  WebhookCreated,
} from "../helpers/types.ts";

// webhooks.md §4: the retry schedule, failure kinds, Retry-After, 410, exhaustion, auto-disable
// and recover. Real servers with a ManualClock; `drain()` runs delivery rounds until nothing is
// due, so no test sleeps through a delay.

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const DEFAULT_SCHEDULE = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];
const ENV = {
  SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
  SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true",
  SIGILUM_WEBHOOK_TIMEOUT_MS: "300",
};

interface Svc {
  serviceId: string;
  slug: string;
  apiKey: string;
}

/** One real server with a ManualClock and an owner, plus the calls every scenario needs. */
class Harness {
  readonly clock = new ManualClock();
  t!: TestServer;
  s!: ServiceSetup;

  constructor(private env: Record<string, string> = {}) {}

  async start() {
    this.t = await startTestServer({ clock: this.clock, env: { ...ENV, ...this.env } });
    this.s = await ownerWithKey(this.t);
  }

  drain() {
    return this.t.server.ctx.deliveryWorker.drain();
  }

  iso(ms = this.clock.now()) {
    return new Date(ms).toISOString();
  }

  async service(): Promise<Svc> {
    const slug = uniqueName("retry");
    const svc = await this.s.client.post<Service>("/v1/services", { slug, name: "Retries" });
    expect(svc.status).toBe(201);
    const key = await this.s.client.post<ApiKeyCreated>(`/v1/services/${svc.body.id}/keys`);
    expect(key.status).toBe(201);
    return { serviceId: svc.body.id, slug, apiKey: key.body.key };
  }

  /** A fresh service with one webhook to `url`. */
  async hook(url: string, events?: string[]) {
    const svc = await this.service();
    const res = await this.s.client.post<WebhookCreated>(`/v1/services/${svc.serviceId}/webhooks`, {
      url,
      ...(events ? { events } : {}),
    });
    expect(res.status).toBe(201);
    const base = `/v1/services/${svc.serviceId}/webhooks/${res.body.id}`;
    return { svc, id: res.body.id as string, secret: res.body.secret as string, base };
  }

  async submit(svc: Svc) {
    const agent = await newAgent(this.s.namespace, this.clock.now());
    const res = await submitClaim<ClaimSubmitted>(
      this.t,
      agent,
      svc.apiKey,
      svc.slug,
      {},
      {
        created: Math.floor(this.clock.now() / 1000),
      },
    );
    expect(res.status).toBe(201);
    return res.body as { claim_id: string };
  }

  async delivery(base: string, id: string) {
    const res = await this.s.client.get<DeliveryDetail>(`${base}/deliveries/${id}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  async deliveries(base: string, query = "") {
    const res = await this.s.client.get<DeliveryList>(`${base}/deliveries${query}`);
    expect(res.status).toBe(200);
    return res.body.deliveries as { id: string; status: string; event_id: string }[];
  }

  async webhook(base: string) {
    const res = await this.s.client.get<Webhook>(base);
    expect(res.status).toBe(200);
    return res.body;
  }

  /** ms from now until the delivery's next attempt. */
  async untilNext(base: string, id: string): Promise<number> {
    const d = await this.delivery(base, id);
    expect(d.status).toBe("pending");
    return Date.parse(d.next_attempt_at!) - this.clock.now();
  }

  /** Stop sending to a scenario's webhook so later clock moves do not touch it. */
  async retire(base: string) {
    await this.s.client.delete<Deleted>(base);
  }
}

function expectJitterBounds(delayMs: number, baseMs: number) {
  expect(delayMs).toBeGreaterThanOrEqual(Math.floor(baseMs * 0.8));
  expect(delayMs).toBeLessThanOrEqual(Math.ceil(baseMs * 1.2));
}

function header(r: Received, name: string) {
  return r.headers[name];
}

/** A receiver on a fixed port (to bring a "down" receiver back where the webhook points). */
function serveOn(port: number, received: Received[]) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(request) {
      received.push({
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
        at: Date.now(),
      });
      return new Response("back");
    },
  });
}

describe("retryPolicy.decideOutcome (pure)", () => {
  const result = (
    statusCode: number | null,
    error: string | null,
    retryAfterMs: number | null,
  ) => ({
    statusCode,
    error,
    retryAfterMs,
  });
  const mid = () => 0.5;
  const low = () => 0;
  const high = () => 0.999_999;

  test("2xx succeeds, 410 is gone, past the schedule is exhausted", () => {
    expect(decideOutcome(result(204, null, null), 1, DEFAULT_SCHEDULE, mid)).toEqual({
      kind: "succeeded",
    });
    expect(decideOutcome(result(410, null, null), 1, DEFAULT_SCHEDULE, mid)).toEqual({
      kind: "gone",
    });
    expect(decideOutcome(result(500, null, null), 8, DEFAULT_SCHEDULE, mid)).toEqual({
      kind: "failed",
      reason: "exhausted",
    });
    // 3xx and a 2xx with a transport error are failures.
    expect(decideOutcome(result(302, null, null), 1, DEFAULT_SCHEDULE, mid).kind).toBe("retry");
    expect(
      decideOutcome(result(200, "connection_error", null), 1, DEFAULT_SCHEDULE, mid).kind,
    ).toBe("retry");
  });

  test("±20 % jitter around each step", () => {
    DEFAULT_SCHEDULE.forEach((base, i) => {
      expect(decideOutcome(result(500, null, null), i + 1, DEFAULT_SCHEDULE, low)).toEqual({
        kind: "retry",
        delayMs: Math.round(base * 0.8),
      });
      expect(decideOutcome(result(500, null, null), i + 1, DEFAULT_SCHEDULE, mid)).toEqual({
        kind: "retry",
        delayMs: base,
      });
      const hi = decideOutcome(result(500, null, null), i + 1, DEFAULT_SCHEDULE, high);
      const hiDelay = hi.kind === "retry" ? hi.delayMs : -1;
      expect(hiDelay).toBeLessThanOrEqual(base * 1.2);
      expect(hiDelay).toBeGreaterThan(base * 1.199);
    });
  });

  test("Retry-After: at least that long, capped at 2× the step and at 24 h; 60 s floor after 429/timeout", () => {
    const at = (r: ReturnType<typeof result>, attempt: number, schedule = DEFAULT_SCHEDULE) => {
      const o = decideOutcome(r, attempt, schedule, low);
      return o.kind === "retry" ? o.delayMs : -1;
    };
    expect(at(result(429, null, 120_000), 1)).toBe(60_000); // cap 2×5 s = 10 s, floor 60 s
    expect(at(result(503, null, 120_000), 1)).toBe(10_000); // cap 2×5 s, no floor for 503
    expect(at(result(503, null, 500_000), 2)).toBe(500_000); // within 2×5 min
    expect(at(result(429, null, 7_200_000), 3)).toBe(3_600_000); // 2×30 min
    expect(at(result(503, null, 200 * HOUR), 1, [20 * HOUR])).toBe(24 * HOUR); // 24 h cap
    expect(at(result(500, null, 500_000), 2)).toBe(240_000); // ignored on other statuses
    expect(at(result(null, "timeout", null), 1)).toBe(60_000);
    expect(at(result(null, "connection_refused", null), 1)).toBe(4_000);
  });
});

describe("default schedule (5s,5m,30m,2h,5h,10h,10h)", () => {
  const h = new Harness();
  beforeAll(() => h.start());
  afterAll(() => h.t.close());

  test("500s: attempt 1 at once, then one attempt per step at next_attempt_at (not a ms earlier), then failed", async () => {
    const text = "0123456789abcdef".repeat(320); // 5 KiB
    const rx = startReceiver(() => new Response(text, { status: 500 }));
    try {
      const { base, svc } = await h.hook(`${rx.url}/walk`);
      const created = h.clock.now();
      await h.submit(svc);
      await h.drain();
      expect(rx.received).toHaveLength(1);
      const id = header(rx.received[0]!, "x-sigilum-delivery-id")!;
      const attemptTimes = [h.clock.now()];
      const delays: number[] = [];
      for (let i = 0; i < DEFAULT_SCHEDULE.length; i++) {
        const d = await h.delivery(base, id);
        expect(d).toMatchObject({
          status: "pending",
          attempt_count: i + 1,
          last_status_code: 500,
          last_error: "http_500",
          completed_at: null,
        });
        const delay = Date.parse(d.next_attempt_at!) - h.clock.now();
        expectJitterBounds(delay, DEFAULT_SCHEDULE[i]!);
        delays.push(delay);
        h.clock.advance(delay - 1);
        await h.drain();
        expect(rx.received).toHaveLength(i + 1);
        h.clock.advance(1);
        await h.drain();
        expect(rx.received).toHaveLength(i + 2);
        expect(header(rx.received[i + 1]!, "x-sigilum-attempt")).toBe(String(i + 2));
        attemptTimes.push(h.clock.now());
      }
      // Jitter really is applied (all seven delays exactly on the step is practically impossible).
      expect(delays.some((d, i) => d !== DEFAULT_SCHEDULE[i])).toBe(true);

      const done = await h.delivery(base, id);
      expect(done).toMatchObject({
        status: "failed",
        attempt_count: 8,
        next_attempt_at: null,
        completed_at: h.iso(),
        last_status_code: 500,
        last_error: "http_500",
        created_at: h.iso(created),
      });
      expect(done.attempts).toHaveLength(8);
      done.attempts.forEach((a: Record<string, unknown>, i: number) => {
        expect(a).toMatchObject({
          attempt: i + 1,
          started_at: h.iso(attemptTimes[i]),
          status_code: 500,
          error: null,
          response_excerpt: text.slice(0, 1024),
        });
        expect(typeof a.duration_ms).toBe("number");
      });
      // Nothing more, ever.
      h.clock.advance(3 * DAY);
      await h.drain();
      expect(rx.received).toHaveLength(8);
      const hook = await h.webhook(base);
      expect(hook).toMatchObject({
        enabled: true,
        consecutive_failures: 8,
        last_failure_at: h.iso(attemptTimes[7]),
        last_success_at: null,
      });
      await h.retire(base);
    } finally {
      rx.stop();
    }
  });

  test("X-Sigilum-Event-Id and the body are identical on every retry and on a redelivery; the delivery id is new only for the redelivery", async () => {
    const rx = startReceiver((_r, i) => new Response("", { status: i < 2 ? 503 : 200 }));
    try {
      const { base, svc } = await h.hook(`${rx.url}/ids`);
      await h.submit(svc);
      await h.drain();
      h.clock.advance(6 * SECOND);
      await h.drain();
      h.clock.advance(6 * MINUTE);
      await h.drain();
      expect(rx.received).toHaveLength(3);
      const [a1, a2, a3] = rx.received as [Received, Received, Received];
      const eventId = JSON.parse(a1.body).id;
      const deliveryId = header(a1, "x-sigilum-delivery-id")!;
      for (const r of [a1, a2, a3]) {
        expect(header(r, "x-sigilum-event-id")).toBe(eventId);
        expect(header(r, "webhook-id")).toBe(eventId);
        expect(header(r, "x-sigilum-delivery-id")).toBe(deliveryId);
        expect(r.body).toBe(a1.body);
      }
      expect([a1, a2, a3].map((r) => header(r, "x-sigilum-attempt"))).toEqual(["1", "2", "3"]);
      // `t` is fresh for every attempt.
      const ts = [a1, a2, a3].map((r) => Number(header(r, "webhook-timestamp")));
      expect(ts[1]! - ts[0]!).toBe(6);
      expect(ts[2]! - ts[1]!).toBe(360);
      expect((await h.delivery(base, deliveryId)).status).toBe("succeeded");

      const again = await h.s.client.post<Delivery>(`${base}/deliveries/${deliveryId}/redeliver`);
      expect(again.status).toBe(202);
      expect(again.body.id).not.toBe(deliveryId);
      expect(again.body.event_id).toBe(eventId);
      await h.drain();
      expect(rx.received).toHaveLength(4);
      const r4 = rx.received[3]!;
      expect(header(r4, "x-sigilum-event-id")).toBe(eventId);
      expect(header(r4, "x-sigilum-delivery-id")).toBe(again.body.id);
      expect(header(r4, "x-sigilum-attempt")).toBe("1");
      expect(r4.body).toBe(a1.body);
      await h.retire(base);
    } finally {
      rx.stop();
    }
  });

  test("connection refused is retried; the receiver comes back and the delivery completes on schedule", async () => {
    const probe = startReceiver();
    const port = probe.port;
    probe.stop();
    const received: Received[] = [];
    let back: ReturnType<typeof serveOn> | null = null;
    try {
      const { base, svc } = await h.hook(`http://127.0.0.1:${port}/down`);
      await h.submit(svc);
      await h.drain();
      const [d] = await h.deliveries(base);
      const first = await h.delivery(base, d!.id);
      expect(first).toMatchObject({
        status: "pending",
        attempt_count: 1,
        last_status_code: null,
        last_error: "connection_refused",
      });
      expect(first.attempts[0]).toMatchObject({
        status_code: null,
        error: "connection_refused",
        response_excerpt: null,
      });
      expectJitterBounds(Date.parse(first.next_attempt_at!) - h.clock.now(), 5 * SECOND);

      h.clock.advance(await h.untilNext(base, d!.id));
      await h.drain();
      const second = await h.delivery(base, d!.id);
      expect(second.attempt_count).toBe(2);
      expect(second.last_error).toBe("connection_refused");
      expect((await h.webhook(base)).consecutive_failures).toBe(2);
      const wait = await h.untilNext(base, d!.id);
      expectJitterBounds(wait, 5 * MINUTE);

      // Back up before the third attempt is due; it is sent exactly when due.
      back = serveOn(port!, received);
      h.clock.advance(wait - 1);
      await h.drain();
      expect(received).toHaveLength(0);
      h.clock.advance(1);
      await h.drain();
      expect(received).toHaveLength(1);
      expect(header(received[0]!, "x-sigilum-attempt")).toBe("3");
      const done = await h.delivery(base, d!.id);
      expect(done).toMatchObject({
        status: "succeeded",
        attempt_count: 3,
        last_status_code: 200,
        last_error: null,
        next_attempt_at: null,
        completed_at: h.iso(),
      });
      expect(done.attempts.map((a: { error: string | null }) => a.error)).toEqual([
        "connection_refused",
        "connection_refused",
        null,
      ]);
      expect(done.attempts[2]!.response_excerpt).toBe("back");
      const hook = await h.webhook(base);
      expect(hook).toMatchObject({ consecutive_failures: 0, last_success_at: h.iso() });
      await h.retire(base);
    } finally {
      back?.stop(true);
    }
  });

  test("3xx is a failure and the redirect is not followed", async () => {
    const other = startReceiver();
    const rx = startReceiver((_r, i) =>
      i === 0
        ? new Response(null, { status: 302, headers: { location: `${other.url}/elsewhere` } })
        : new Response(null, { status: 307, headers: { location: `${other.url}/elsewhere` } }),
    );
    try {
      const { base, svc } = await h.hook(`${rx.url}/redirect`);
      await h.submit(svc);
      await h.drain();
      const id = header(rx.received[0]!, "x-sigilum-delivery-id")!;
      h.clock.advance(await h.untilNext(base, id));
      await h.drain();
      expect(rx.received).toHaveLength(2);
      expect(other.received).toHaveLength(0);
      const d = await h.delivery(base, id);
      expect(d).toMatchObject({ status: "pending", last_status_code: 307, last_error: "http_307" });
      expect(d.attempts.map((a) => a.status_code)).toEqual([302, 307]);
      expectJitterBounds(Date.parse(d.next_attempt_at!) - h.clock.now(), 5 * MINUTE);
      await h.retire(base);
    } finally {
      rx.stop();
      other.stop();
    }
  });

  test("timeout (receiver slower than SIGILUM_WEBHOOK_TIMEOUT_MS=300) → error timeout, next attempt exactly 60 s later", async () => {
    const rx = startReceiver(async (_r, i) => {
      if (i === 0) await Bun.sleep(1_500);
      return new Response("ok");
    });
    try {
      const { base, svc } = await h.hook(`${rx.url}/slow`);
      await h.submit(svc);
      const started = performance.now();
      await h.drain();
      const elapsed = performance.now() - started;
      expect(elapsed).toBeLessThan(1_400);
      const [d] = await h.deliveries(base);
      const first = await h.delivery(base, d!.id);
      expect(first).toMatchObject({
        status: "pending",
        last_error: "timeout",
        last_status_code: null,
      });
      expect(first.attempts[0]!.error).toBe("timeout");
      expect(first.attempts[0]!.duration_ms).toBeGreaterThanOrEqual(250);
      expect(first.attempts[0]!.duration_ms).toBeLessThan(1_400);
      // 5 s ± 20 % is below the 60 s floor after a timeout.
      expect(Date.parse(first.next_attempt_at!) - h.clock.now()).toBe(60 * SECOND);
      h.clock.advance(60 * SECOND - 1);
      await h.drain();
      expect(rx.received).toHaveLength(1);
      h.clock.advance(1);
      await h.drain();
      expect(rx.received).toHaveLength(2);
      expect((await h.delivery(base, d!.id)).status).toBe("succeeded");
      await h.retire(base);
    } finally {
      rx.stop();
    }
  });

  /** One delivery to `url`, drained: it must end its attempt as a timeout within 2 s (still pending). */
  async function timedOutWithin2s(url: string) {
    const { base, svc } = await h.hook(url);
    await h.submit(svc);
    const started = performance.now();
    await h.drain();
    expect(performance.now() - started).toBeLessThan(2_000);
    const [d] = await h.deliveries(base);
    const detail = await h.delivery(base, d!.id);
    expect(detail).toMatchObject({ status: "pending", last_error: "timeout" });
    await h.retire(base);
    return detail;
  }

  test("the timeout is total: headers at once but a body that never ends → timeout too", async () => {
    const rx = startReceiver(
      () =>
        new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode("partial"));
            },
          }),
          { status: 200 },
        ),
    );
    try {
      const detail = await timedOutWithin2s(`${rx.url}/stalled-body`);
      expect(Date.parse(detail.next_attempt_at!) - h.clock.now()).toBe(60 * SECOND);
    } finally {
      rx.stop();
    }
  });

  test("the timeout is total for a body of declared length that never arrives, too", async () => {
    // Raw TCP, so the Content-Length really is a promise the body does not keep.
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial");
        },
      },
    });
    try {
      await timedOutWithin2s(`http://127.0.0.1:${listener.port}/declared-body`);
    } finally {
      listener.stop(true);
    }
  });

  test("429/503 with Retry-After: 60 s floor for 429, at least Retry-After, capped at 2× the step", async () => {
    const responses = [
      // attempt 1 (step 5 s): Retry-After 120 s is capped at 10 s, the 429 floor makes it 60 s
      () => new Response("slow down", { status: 429, headers: { "retry-after": "120" } }),
      // attempt 2 (step 5 min = 240–360 s): Retry-After 500 s wins (cap 600 s)
      () => new Response("", { status: 503, headers: { "retry-after": "500" } }),
      // attempt 3 (step 30 min): Retry-After 2 h is capped at 2 × 30 min
      () => new Response("", { status: 429, headers: { "retry-after": "7200" } }),
      // attempt 4 (step 2 h): Retry-After as an HTTP date 3 h ahead (cap 4 h)
      () =>
        new Response("", {
          status: 503,
          headers: { "retry-after": new Date(h.clock.now() + 3 * HOUR).toUTCString() },
        }),
      // attempt 5 (step 5 h): a 500's Retry-After is ignored
      () => new Response("", { status: 500, headers: { "retry-after": "86400" } }),
      () => new Response("ok"),
    ];
    const rx = startReceiver((_r, i) => responses[i]!());
    try {
      const { base, svc } = await h.hook(`${rx.url}/throttled`);
      await h.submit(svc);
      await h.drain();
      const id = header(rx.received[0]!, "x-sigilum-delivery-id")!;
      const expected: [number, number][] = [
        [60 * SECOND, 60 * SECOND],
        [500 * SECOND, 500 * SECOND],
        [HOUR, HOUR],
        [3 * HOUR - SECOND, 3 * HOUR], // an HTTP date has whole seconds
        [4 * HOUR, 6 * HOUR],
      ];
      for (const [i, [min, max]] of expected.entries()) {
        const wait = await h.untilNext(base, id);
        expect(wait).toBeGreaterThanOrEqual(min);
        expect(wait).toBeLessThanOrEqual(max);
        h.clock.advance(wait - 1);
        await h.drain();
        expect(rx.received).toHaveLength(i + 1);
        h.clock.advance(1);
        await h.drain();
        expect(rx.received).toHaveLength(i + 2);
      }
      const d = await h.delivery(base, id);
      expect(d.status).toBe("succeeded");
      expect(d.attempts.map((a) => a.status_code)).toEqual([429, 503, 429, 503, 500, 200]);
      expect(d.attempts[0]!.response_excerpt).toBe("slow down");
      await h.retire(base);
    } finally {
      rx.stop();
    }
  });

  test("410 Gone disables the webhook (gone) and cancels its other pending deliveries", async () => {
    let gone = false;
    const rx = startReceiver(() => new Response("", { status: gone ? 410 : 500 }));
    try {
      const { base, svc } = await h.hook(`${rx.url}/gone`);
      await h.submit(svc);
      await h.drain();
      const [waiting] = await h.deliveries(base);
      expect(waiting!.status).toBe("pending");
      gone = true;
      await h.submit(svc);
      await h.drain();
      expect(rx.received).toHaveLength(2);
      const goneId = header(rx.received[1]!, "x-sigilum-delivery-id")!;
      const hook = await h.webhook(base);
      expect(hook).toMatchObject({ enabled: false, disabled_reason: "gone" });
      expect(await h.delivery(base, goneId)).toMatchObject({
        status: "failed",
        last_status_code: 410,
        last_error: "gone",
        next_attempt_at: null,
      });
      expect(await h.delivery(base, waiting!.id)).toMatchObject({
        status: "cancelled",
        next_attempt_at: null,
        completed_at: h.iso(),
      });
      // Nothing more: not the cancelled retry, not new events.
      await h.submit(svc);
      h.clock.advance(DAY);
      await h.drain();
      expect(rx.received).toHaveLength(2);
      expect(await h.deliveries(base)).toHaveLength(2);
      await h.retire(base);
    } finally {
      rx.stop();
    }
  });

  test("response excerpt: ≤ 1 KiB, a prefix of what the receiver said (ASCII)", async () => {
    const text = `${"x".repeat(1000)}${"y".repeat(4120)}`;
    const rx = startReceiver(() => new Response(text, { status: 502 }));
    try {
      const { base, svc } = await h.hook(`${rx.url}/excerpt`);
      await h.submit(svc);
      await h.drain();
      const id = header(rx.received[0]!, "x-sigilum-delivery-id")!;
      const d = await h.delivery(base, id);
      expect(d.attempts[0]!.response_excerpt).toBe(text.slice(0, 1024));
      expect(d.last_error).toBe("http_502");
      await h.retire(base);
    } finally {
      rx.stop();
    }
  });

  // The excerpt is cut at a character boundary: a prefix of what the receiver said, ≤ 1 KiB.
  test("response excerpt with multi-byte UTF-8 text stays within 1 KiB and a prefix", async () => {
    const text = `a${"é".repeat(3000)}`; // byte 1024 falls inside an "é"
    const rx = startReceiver(() => new Response(text, { status: 500 }));
    try {
      const { base, svc } = await h.hook(`${rx.url}/utf8`);
      await h.submit(svc);
      await h.drain();
      const id = header(rx.received[0]!, "x-sigilum-delivery-id")!;
      const excerpt: string = (await h.delivery(base, id)).attempts[0]!.response_excerpt!;
      await h.retire(base);
      expect(Buffer.byteLength(excerpt)).toBeLessThanOrEqual(1024);
      expect(text.startsWith(excerpt)).toBe(true);
    } finally {
      rx.stop();
    }
  });
});

describe("exhaustion and recover (SIGILUM_WEBHOOK_RETRY_SCHEDULE=1s,1s)", () => {
  const h = new Harness({ SIGILUM_WEBHOOK_RETRY_SCHEDULE: "1s,1s" });
  beforeAll(() => h.start());
  afterAll(() => h.t.close());

  test("three attempts, then the delivery is failed (dead letter) and nothing more is sent", async () => {
    const rx = startReceiver(() => new Response("down", { status: 500 }));
    try {
      const { base, svc } = await h.hook(`${rx.url}/exhaust`);
      await h.submit(svc);
      await h.drain();
      h.clock.advance(1_200);
      await h.drain();
      h.clock.advance(1_200);
      await h.drain();
      expect(rx.received.map((r) => header(r, "x-sigilum-attempt"))).toEqual(["1", "2", "3"]);
      const id = header(rx.received[0]!, "x-sigilum-delivery-id")!;
      expect(await h.delivery(base, id)).toMatchObject({
        status: "failed",
        attempt_count: 3,
        next_attempt_at: null,
        completed_at: h.iso(),
        last_status_code: 500,
        last_error: "http_500",
      });
      h.clock.advance(HOUR);
      await h.drain();
      expect(rx.received).toHaveLength(3);
      await h.retire(base);
    } finally {
      rx.stop();
    }
  });

  test("recover re-queues the failed deliveries of the window (once per event); they are delivered when the receiver is healthy", async () => {
    let healthy = false;
    const rx = startReceiver(() => new Response("", { status: healthy ? 200 : 500 }));
    const exhaust = async () => {
      await h.drain();
      for (let i = 0; i < 2; i++) {
        h.clock.advance(1_200);
        await h.drain();
      }
    };
    try {
      const { base, svc } = await h.hook(`${rx.url}/recover`);
      const t1 = h.clock.now();
      await h.submit(svc);
      await exhaust();
      h.clock.advance(2 * HOUR);
      const t2 = h.clock.now();
      await h.submit(svc);
      await exhaust();
      expect(rx.received).toHaveLength(6);
      const failed = await h.deliveries(base, "?status=failed");
      expect(failed).toHaveLength(2);
      const [newer, older] = failed as [(typeof failed)[0], (typeof failed)[0]];

      healthy = true;
      // Only the second one is in [t2 - 1 min, now].
      const r1 = await h.s.client.post<Requeued>(`${base}/recover`, { since: h.iso(t2 - MINUTE) });
      expect(r1.status).toBe(202);
      expect(r1.body).toEqual({ requeued: 1 });
      await h.drain();
      expect(rx.received).toHaveLength(7);
      expect(header(rx.received[6]!, "x-sigilum-event-id")).toBe(newer.event_id);
      expect(header(rx.received[6]!, "x-sigilum-attempt")).toBe("1");
      expect(header(rx.received[6]!, "x-sigilum-delivery-id")).not.toBe(newer.id);

      // An explicit window around the first.
      const r2 = await h.s.client.post<Requeued>(`${base}/recover`, {
        since: h.iso(t1 - MINUTE),
        until: h.iso(t1 + MINUTE),
      });
      expect(r2.status).toBe(202);
      expect(r2.body).toEqual({ requeued: 1 });
      await h.drain();
      expect(rx.received).toHaveLength(8);
      expect(header(rx.received[7]!, "x-sigilum-event-id")).toBe(older.event_id);

      // An empty window.
      const r3 = await h.s.client.post<Requeued>(`${base}/recover`, {
        since: h.iso(t1 + MINUTE),
        until: h.iso(t1 + 2 * MINUTE),
      });
      expect(r3.status).toBe(202);
      expect(r3.body).toEqual({ requeued: 0 });

      const succeeded = await h.deliveries(base, "?status=succeeded");
      expect(succeeded.map((d) => d.event_id).sort()).toEqual(
        [newer.event_id, older.event_id].sort(),
      );
      // The originals stay as dead letters.
      expect(await h.deliveries(base, "?status=failed")).toHaveLength(2);
      await h.retire(base);
    } finally {
      rx.stop();
    }
  });

  test("recover: since older than 14 days → 400; on a disabled webhook → 409 CONFLICT", async () => {
    const rx = startReceiver();
    try {
      const { base } = await h.hook(`${rx.url}/recover-bad`);
      const tooOld = await h.s.client.post<ApiErrorBody>(`${base}/recover`, {
        since: h.iso(h.clock.now() - 14 * DAY - MINUTE),
      });
      expectValidation(tooOld, "since");
      const justInside = await h.s.client.post<Requeued>(`${base}/recover`, {
        since: h.iso(h.clock.now() - 14 * DAY + MINUTE),
      });
      expect(justInside.status).toBe(202);
      expect((await h.s.client.patch<Webhook>(base, { enabled: false })).status).toBe(200);
      const disabled = await h.s.client.post<ApiErrorBody>(`${base}/recover`, {
        since: h.iso(h.clock.now() - HOUR),
      });
      expectError(disabled, 409, "CONFLICT");
      await h.retire(base);
    } finally {
      rx.stop();
    }
  });
});

describe("auto-disable (SIGILUM_WEBHOOK_DISABLE_AFTER=1h, schedule 40m,40m,40m,40m)", () => {
  const h = new Harness({
    SIGILUM_WEBHOOK_DISABLE_AFTER: "1h",
    SIGILUM_WEBHOOK_RETRY_SCHEDULE: "40m,40m,40m,40m",
  });
  beforeAll(() => h.start());
  afterAll(() => h.t.close());

  test("failures for ≥ 1 h with no success → disabled (failing); re-enable clears it and starts over", async () => {
    const rx = startReceiver(() => new Response("", { status: 500 }));
    try {
      const { base, svc } = await h.hook(`${rx.url}/failing`);
      const t0 = h.clock.now();
      await h.submit(svc);
      await h.drain();
      const id = header(rx.received[0]!, "x-sigilum-delivery-id")!;
      expect(await h.webhook(base)).toMatchObject({
        enabled: true,
        disabled_reason: null,
        consecutive_failures: 1,
        last_failure_at: h.iso(t0),
      });
      // Attempt 2 after 32–48 min: still under the hour.
      const w1 = await h.untilNext(base, id);
      expectJitterBounds(w1, 40 * MINUTE);
      h.clock.advance(w1);
      await h.drain();
      expect(await h.webhook(base)).toMatchObject({
        enabled: true,
        consecutive_failures: 2,
        last_failure_at: h.iso(),
      });
      // Attempt 3 lands 64–96 min after the first failure: disabled.
      h.clock.advance(await h.untilNext(base, id));
      await h.drain();
      expect(rx.received).toHaveLength(3);
      expect(h.clock.now() - t0).toBeGreaterThanOrEqual(HOUR);
      expect(await h.webhook(base)).toMatchObject({
        enabled: false,
        disabled_reason: "failing",
        consecutive_failures: 3,
        last_failure_at: h.iso(),
      });
      expect(await h.delivery(base, id)).toMatchObject({
        status: "cancelled",
        attempt_count: 3,
        next_attempt_at: null,
      });
      // Disabled: nothing queued or sent.
      await h.submit(svc);
      h.clock.advance(5 * HOUR);
      await h.drain();
      expect(rx.received).toHaveLength(3);

      const on = await h.s.client.patch<Webhook>(base, { enabled: true });
      expect(on.status).toBe(200);
      expect(on.body).toMatchObject({
        enabled: true,
        disabled_reason: null,
        consecutive_failures: 0,
      });
      // The failure clock starts over: one new failure does not disable it again.
      await h.submit(svc);
      await h.drain();
      expect(rx.received).toHaveLength(4);
      expect(await h.webhook(base)).toMatchObject({
        enabled: true,
        disabled_reason: null,
        consecutive_failures: 1,
      });
      await h.retire(base);
    } finally {
      rx.stop();
    }
  });

  test("a success in between resets the count and the failing-since time", async () => {
    let ok = false;
    const rx = startReceiver(() => new Response("", { status: ok ? 200 : 500 }));
    try {
      const { base, svc } = await h.hook(`${rx.url}/flaky`);
      await h.submit(svc);
      await h.drain();
      const a = header(rx.received[0]!, "x-sigilum-delivery-id")!;
      ok = true;
      h.clock.advance(await h.untilNext(base, a));
      await h.drain();
      const afterSuccess = await h.webhook(base);
      expect(afterSuccess).toMatchObject({
        enabled: true,
        consecutive_failures: 0,
        last_success_at: h.iso(),
      });
      expect(afterSuccess.last_failure_at).not.toBeNull();

      ok = false;
      h.clock.advance(20 * MINUTE);
      const failingFrom = h.clock.now();
      await h.submit(svc);
      await h.drain();
      const b = header(rx.received[2]!, "x-sigilum-delivery-id")!;
      h.clock.advance(await h.untilNext(base, b));
      await h.drain();
      // > 1 h since the very first failure, but < 1 h since the failures resumed.
      expect(h.clock.now() - failingFrom).toBeLessThan(HOUR);
      expect(await h.webhook(base)).toMatchObject({
        enabled: true,
        disabled_reason: null,
        consecutive_failures: 2,
      });
      h.clock.advance(await h.untilNext(base, b));
      await h.drain();
      expect(await h.webhook(base)).toMatchObject({
        enabled: false,
        disabled_reason: "failing",
        consecutive_failures: 3,
      });
      await h.retire(base);
    } finally {
      rx.stop();
    }
  });
});
