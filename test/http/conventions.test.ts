import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { ApiClient, signUp, startTestServer, type TestServer } from "../helpers/server.ts";
import type {
  Alive,
  ApiErrorBody,
  OpenApiDocument,
  Readiness,
  Service,
  ServiceList,
} from "../helpers/types.ts";

describe("HTTP conventions", () => {
  let t: TestServer;
  let owner: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    t = await startTestServer();
    owner = await signUp(t);
  });
  afterAll(() => t.close());

  test("healthz (and /health, the reference's path) and readyz", async () => {
    const anon = new ApiClient(t.url);
    expect(await anon.get<Alive>("/healthz")).toMatchObject({
      status: 200,
      body: { status: "ok" },
    });
    expect(await anon.get<Alive>("/health")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await anon.get<Readiness>("/readyz")).toMatchObject({
      status: 200,
      body: { status: "ready", database: "ok" },
    });
  });

  test("every response carries X-Request-ID; a sane caller id is echoed, an insane one replaced", async () => {
    const anon = new ApiClient(t.url);
    const generated = await anon.get<Alive>("/healthz");
    expect(generated.headers.get("x-request-id")).toMatch(/^req_[0-9A-Za-z]{20}$/);
    const echoed = await anon.get<Alive>("/healthz", { "x-request-id": "trace-abc.123" });
    expect(echoed.headers.get("x-request-id")).toBe("trace-abc.123");
    const tooLong = await anon.get<Alive>("/healthz", { "x-request-id": "x".repeat(129) });
    expect(tooLong.headers.get("x-request-id")).toMatch(/^req_/);
    const spaces = await anon.get<Alive>("/healthz", { "x-request-id": "has space" });
    expect(spaces.headers.get("x-request-id")).toMatch(/^req_/);
  });

  test("errors share one shape and the request id matches the header", async () => {
    const res = await owner.client.get<ApiErrorBody>("/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: expect.any(String),
      code: "NOT_FOUND",
      request_id: expect.any(String),
    });
    expect(res.headers.get("x-request-id")).toBe(res.body.request_id);
  });

  test("a known path with the wrong method is 405 METHOD_NOT_ALLOWED with Allow", async () => {
    const res = await owner.client.put<ApiErrorBody>("/v1/services", { slug: "x" });
    expect(res.status).toBe(405);
    expect(res.body.code).toBe("METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toContain("POST");
  });

  test("415 for a non-JSON body, 400 INVALID_JSON for malformed JSON, 413 over the limit", async () => {
    const plain = await owner.client.post<Service>("/v1/services", "slug=x", {
      "content-type": "text/plain",
    });
    expect(plain).toMatchObject({ status: 415, body: { code: "UNSUPPORTED_MEDIA_TYPE" } });
    const broken = await owner.client.post<Service>("/v1/services", '{"slug": ', {
      "content-type": "application/json",
    });
    expect(broken).toMatchObject({ status: 400, body: { code: "INVALID_JSON" } });
    const huge = await owner.client.post<Service>("/v1/services", {
      slug: "big",
      name: "x".repeat(70_000),
    });
    expect(huge).toMatchObject({ status: 413, body: { code: "PAYLOAD_TOO_LARGE" } });
    const charset = await owner.client.post<Service>(
      "/v1/services",
      JSON.stringify({ slug: "charset-ok", name: "C" }),
      { "content-type": "application/json; charset=utf-8" },
    );
    expect(charset.status).toBe(201);
  });

  test("a chunked body over the limit is cut off with 413 (no Content-Length to trust)", async () => {
    const chunk = new TextEncoder().encode(`{"slug":"chunked","name":"${"y".repeat(40_000)}`);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await fetch(`${t.url}/v1/services`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        cookie: `sigilum_session=${owner.client.cookie}`,
        origin: t.origin,
      },
      body: stream,
    });
    expect(res.status).toBe(413);
    expect((await res.json()).code).toBe("PAYLOAD_TOO_LARGE");
  });

  test("validation errors list {field, message} details", async () => {
    const res = await owner.client.post<ApiErrorBody>("/v1/services", {
      slug: "ok-slug",
      name: 5,
      color: "red",
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("VALIDATION_ERROR");
    const fields = res.body.details!.map((d: { field: string }) => d.field).sort();
    expect(fields).toEqual(["color", "name"]);
    for (const d of res.body.details!) expect(typeof d.message).toBe("string");
  });

  test("the request log has one line per request with route pattern and no secrets", async () => {
    const res = await owner.client.get<ServiceList>("/v1/services", {
      "x-request-id": "log-probe-1",
    });
    expect(res.status).toBe(200);
    const lines = t.logs.map((l) => JSON.parse(l)).filter((l) => l.request_id === "log-probe-1");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: "request",
      method: "GET",
      status: 200,
      route: "/v1/services/",
    });
    expect(typeof lines[0].duration_ms).toBe("number");
    expect(t.logs.join("\n")).not.toContain(owner.client.cookie!);
  });

  test("/openapi.json describes the routes with the validating schemas, /docs renders them", async () => {
    const anon = new ApiClient(t.url);
    const spec = await anon.get<OpenApiDocument>("/openapi.json");
    expect(spec.status).toBe(200);
    expect(spec.body.openapi).toBe("3.1.0");
    const create = spec.body.paths["/v1/services"]!.post!;
    expect(create.requestBody!.content["application/json"]!.schema.required).toEqual([
      "slug",
      "name",
    ]);
    expect(create.requestBody!.content["application/json"]!.schema.additionalProperties).toBe(
      false,
    );
    expect(spec.body.paths["/v1/services/{serviceId}/keys/{keyId}/roll"]!.post!).toBeDefined();
    expect(spec.body.paths["/v1/auth/signup"]!.post!.requestBody!.required).toBe(true);
    expect(spec.body.paths["/v1/services/{serviceId}/keys"]!.post!.requestBody!.required).toBe(
      false,
    );
    // Owner routes take application/json only; service/agent routes read any body as JSON.
    expect(Object.keys(create.requestBody!.content)).toEqual(["application/json"]);
    const submit = spec.body.paths["/v1/claims"]!.post!.requestBody!;
    expect(Object.keys(submit.content)).toEqual(["application/json", "*/*"]);
    expect(submit.content["*/*"]!.schema.required).toContain("agent_ip");
    expect(submit.description).toContain("whatever the Content-Type");
    expect(spec.body.paths["/health"]!.get!.summary).toBeDefined();
    // Routes that take no body (an empty, closed one) show none.
    expect(spec.body.paths["/v1/auth/me"]!.get!.requestBody).toBeUndefined();
    expect(spec.body.paths["/v1/auth/logout"]!.post!.requestBody).toBeUndefined();
    const docs = await fetch(`${t.url}/docs`);
    expect(docs.headers.get("content-type")).toContain("text/html");
    const html = await docs.text();
    expect(html).toContain("/v1/services/{serviceId}/webhooks/{webhookId}/rotate-secret");
  });
});

describe("storage outage", () => {
  test("a database locked by another process answers 503 with Retry-After, then recovers", async () => {
    // A short wait for the lock (default 5 s): the 503 is what is tested, not the wait.
    const t = await startTestServer({ env: { SIGILUM_DATABASE_BUSY_TIMEOUT: "300ms" } });
    const owner = await signUp(t);
    const other = createClient({ url: `file:${join(t.dataDir, "sigilum.db")}` });
    const lock = await other.transaction("write");
    const locked = await owner.client.post<ApiErrorBody>("/v1/services", {
      slug: "while-locked",
      name: "Locked",
    });
    expect(locked.status).toBe(503);
    expect(locked.body.code).toBe("SERVICE_UNAVAILABLE");
    expect(locked.headers.get("retry-after")).toBe("1");
    await lock.rollback();
    other.close();
    const after = await owner.client.post<Service>("/v1/services", {
      slug: "while-locked",
      name: "Locked",
    });
    expect(after.status).toBe(201);
    await t.close();
  });

  test("a closed database answers 503 SERVICE_UNAVAILABLE with Retry-After and readyz 503", async () => {
    const t = await startTestServer();
    const owner = await signUp(t);
    t.server.ctx.database.client.close();
    const res = await owner.client.get<ApiErrorBody>("/v1/services");
    expect(res.status).toBe(503);
    expect(res.body.code).toBe("SERVICE_UNAVAILABLE");
    expect(res.headers.get("retry-after")).toBe("1");
    expect((await new ApiClient(t.url).get<ApiErrorBody>("/readyz")).status).toBe(503);
    await t.close().catch(() => {});
  });
});

describe("metrics", () => {
  test("/metrics exposes request counts, latency histograms and scrape-time gauges in Prometheus format", async () => {
    const t = await startTestServer();
    const anon = new ApiClient(t.url);
    await anon.get<Alive>("/healthz");
    await anon.get<ServiceList>("/v1/services");
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    expect(text).toContain(
      'sigilum_http_requests_total{method="GET",route="/healthz",status="200"} 1',
    );
    expect(text).toMatch(
      /sigilum_http_requests_total\{method="GET",route="\/v1\/services\/",status="401"\} 1/,
    );
    expect(text).toContain(
      'sigilum_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 1',
    );
    expect(text).toContain("# TYPE sigilum_webhook_queue_depth gauge");
    expect(text).toContain("sigilum_webhook_queue_depth 0");
    expect(text).toContain("# TYPE sigilum_cache_hits_total counter");
    expect(text).toContain('sigilum_cache_hits_total{cache="verify"}');
    expect(text).toContain("# TYPE sigilum_cache_misses_total counter");
    expect(text).toContain('sigilum_cache_misses_total{cache="api_key"}');
    await t.close();
  });
});
