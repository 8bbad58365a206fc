/**
 * The owner's usage views: GET /v1/namespaces/{ns}/usage (grouped, summary, every filter and sort,
 * pagination) and GET …/usage/events (raw, newest first), with cross-tenant isolation. The server
 * runs on a ManualClock so each event has a known receive time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseCanonicalKey, toDidKey } from "../../src/signing/index.ts";
import { newAgent } from "../helpers/agent.ts";
import { expectError, expectValidation } from "../helpers/assertions.ts";
import {
  ApiClient,
  type JsonResponse,
  ManualClock,
  signUp,
  startTestServer,
  type TestServer,
} from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  OpenApiDocument,
  TokenCreated,
  UsageEventList,
  UsageReport,
} from "../helpers/types.ts";
import { gatewayEvent, report, serviceClient } from "./support.ts";

const T0 = Date.parse("2026-03-04T12:00:00.000Z");
const MINUTE = 60_000;
const at = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();

const clock = new ManualClock(T0);
let t: TestServer;
let a: ServiceSetup;
let b: ServiceSetup;
let owner: Awaited<ReturnType<typeof signUp>>;
let k1: string;
let k2: string;
let usage: (query?: string) => Promise<JsonResponse<UsageReport>>;
let events: (query?: string) => Promise<JsonResponse<UsageEventList>>;

// [minute, service, subject, key, agent id, outcome]
type Spec = [number, "a" | "b", string, "k1" | "k2", string | null, string];
const EVENTS: Spec[] = [
  [0, "a", "alice", "k1", "a1", "success"],
  [1, "a", "alice", "k1", "a1", "denied"],
  [2, "b", "alice", "k1", "a1", "success"],
  [3, "a", "bob", "k2", null, "error"],
  [4, "a", "bob", "k2", null, "SUCCESS"],
  [5, "a", "bob", "k2", null, "success"],
  [6, "b", "carol", "k1", "a2", "success"],
];

beforeAll(async () => {
  t = await startTestServer({ clock });
  a = await ownerWithKey(t);
  b = await ownerWithKey(t);
  owner = await signUp(t);
  k1 = (await newAgent(owner.namespace)).publicKey;
  k2 = (await newAgent(owner.namespace)).publicKey;
  for (const [minute, svc, subject, key, agentId, outcome] of EVENTS) {
    clock.ms = T0 + minute * MINUTE;
    const s = svc === "a" ? a : b;
    const body = gatewayEvent(owner.namespace, s.slug, key === "k1" ? k1 : k2, {
      subject,
      agent_id: agentId,
      outcome,
      event_id: `evt-${minute}`,
    });
    expect((await report(serviceClient(t, s.apiKey), body)).status).toBe(201);
  }
  // Noise in other namespaces, reported by the same services: must never show up below.
  clock.ms = T0 + 7 * MINUTE;
  expect(
    (await report(serviceClient(t, a.apiKey), gatewayEvent(a.namespace, a.slug, k1))).status,
  ).toBe(201);
  expect(
    (await report(serviceClient(t, b.apiKey), gatewayEvent(b.namespace, b.slug, k2))).status,
  ).toBe(201);
  clock.ms = T0 + 60 * MINUTE;
  usage = (query = "") =>
    owner.client.get<UsageReport>(`/v1/namespaces/${owner.namespace}/usage${query}`);
  events = (query = "") =>
    owner.client.get<UsageEventList>(`/v1/namespaces/${owner.namespace}/usage/events${query}`);
});
afterAll(() => t.close());

/** Expected rows by group. */
function groups() {
  return {
    g1: {
      subject: "alice",
      provider: a.slug,
      agent_id: "a1",
      public_key: k1,
      total_calls: 2,
      success_calls: 1,
      error_calls: 1,
      last_used_at: at(1),
    },
    g2: {
      subject: "alice",
      provider: b.slug,
      agent_id: "a1",
      public_key: k1,
      total_calls: 1,
      success_calls: 1,
      error_calls: 0,
      last_used_at: at(2),
    },
    g3: {
      subject: "bob",
      provider: a.slug,
      agent_id: null,
      public_key: k2,
      total_calls: 3,
      success_calls: 2,
      error_calls: 1,
      last_used_at: at(5),
    },
    g4: {
      subject: "carol",
      provider: b.slug,
      agent_id: "a2",
      public_key: k1,
      total_calls: 1,
      success_calls: 1,
      error_calls: 0,
      last_used_at: at(6),
    },
  };
}

describe("GET /v1/namespaces/{namespace}/usage", () => {
  test("groups by (subject, service, key, agent id), most recent first, with the summary", async () => {
    const { g1, g2, g3, g4 } = groups();
    const res = await usage();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      rows: [g4, g3, g2, g1],
      summary: {
        total_events: 7,
        successful_events: 5,
        failed_events: 2,
        unique_subjects: 3,
        unique_providers: 2,
        unique_agents: 3,
      },
      pagination: { limit: 50, offset: 0, total: 4, has_more: false },
      applied_filters: {
        subject: null,
        provider: null,
        agent: null,
        from: null,
        to: null,
        sort: "recent",
      },
    });
  });

  test("sort=calls_desc and sort=subject_asc (ties broken by recency)", async () => {
    const { g1, g2, g3, g4 } = groups();
    expect((await usage("?sort=calls_desc")).body.rows).toEqual([g3, g1, g4, g2]);
    expect((await usage("?sort=subject_asc")).body.rows).toEqual([g2, g1, g3, g4]);
    expect((await usage("?sort=recent")).body.rows).toEqual([g4, g3, g2, g1]);
  });

  test("filters: subject, provider, agent (id or any key form), from/to (half-open)", async () => {
    const { g1, g2, g3, g4 } = groups();
    const bob = await usage("?subject=bob");
    expect(bob.body.rows).toEqual([g3]);
    expect(bob.body.summary).toEqual({
      total_events: 3,
      successful_events: 2,
      failed_events: 1,
      unique_subjects: 1,
      unique_providers: 1,
      unique_agents: 1,
    });
    expect(bob.body.applied_filters.subject).toBe("bob");
    const byProvider = await usage(`?provider=${b.slug.toUpperCase()}`);
    expect(byProvider.body.rows).toEqual([g4, g2]);
    expect(byProvider.body.applied_filters.provider).toBe(b.slug);
    expect((await usage("?agent=a1")).body.rows).toEqual([g2, g1]);
    const didKey = toDidKey(parseCanonicalKey(k1)!);
    const byKey = await usage(`?agent=${encodeURIComponent(didKey)}`);
    expect(byKey.body.rows).toEqual([g4, g2, g1]);
    expect(byKey.body.applied_filters.agent).toBe(k1);
    expect((await usage(`?agent=${encodeURIComponent(k2)}`)).body.rows).toEqual([g3]);
    // Unencoded, as people type it: a `+` of the base64 arrives as a space.
    expect((await usage(`?agent=${k1}`)).body.rows).toEqual([g4, g2, g1]);
    expect((await usage("?agent=nobody")).body.rows).toEqual([]);

    expect((await usage(`?from=${at(2)}`)).body.rows).toEqual([g4, g3, g2]);
    expect((await usage(`?to=${at(2)}`)).body.rows).toEqual([g1]);
    const window = await usage(`?from=${at(1)}&to=${at(3)}`);
    expect(window.body.rows).toEqual([
      g2,
      { ...g1, total_calls: 1, success_calls: 0, error_calls: 1 },
    ]);
    expect(window.body.summary.total_events).toBe(2);
    expect(window.body.applied_filters).toMatchObject({ from: at(1), to: at(3) });
    const combined = await usage(`?subject=alice&provider=${a.slug}&agent=a1&from=${at(0)}`);
    expect(combined.body.rows).toEqual([g1]);
    expect((await usage("?from=2026-03-05")).body.rows).toEqual([]);
  });

  test("pagination over groups: limit, offset, total, has_more", async () => {
    const { g1, g2, g3, g4 } = groups();
    const first = await usage("?limit=2");
    expect(first.body.rows).toEqual([g4, g3]);
    expect(first.body.pagination).toEqual({ limit: 2, offset: 0, total: 4, has_more: true });
    expect(first.body.summary.total_events).toBe(7);
    const second = await usage("?limit=2&offset=2");
    expect(second.body.rows).toEqual([g2, g1]);
    expect(second.body.pagination).toEqual({ limit: 2, offset: 2, total: 4, has_more: false });
    const past = await usage("?offset=10");
    expect(past.body.rows).toEqual([]);
    expect(past.body.pagination.total).toBe(4);
  });

  test("bad parameters are 400 VALIDATION_ERROR naming the field", async () => {
    const cases: [string, string][] = [
      ["?sort=popular", "sort"],
      ["?limit=0", "limit"],
      ["?limit=201", "limit"],
      ["?limit=ten", "limit"],
      ["?offset=-1", "offset"],
      ["?from=yesterday", "from"],
      ["?from=2026", "from"],
      ["?to=2026-13-45T00:00:00Z", "to"],
      [`?from=${at(3)}&to=${at(1)}`, "to"],
      ["?provider=NO_", "provider"],
      ["?subject=%00", "subject"],
      ["?agent=", "agent"],
      ["?colour=blue", "colour"],
    ];
    for (const [query, field] of cases) {
      const res = await usage(query);
      try {
        expectValidation(res, field);
      } catch (err) {
        throw new Error(`${query}: ${(err as Error).message}`);
      }
    }
  });
});

describe("GET /v1/namespaces/{namespace}/usage/events", () => {
  test("lists the raw events newest first, with every field", async () => {
    const res = await events();
    expect(res.status).toBe(200);
    expect(res.body.events.map((e: { event_id: string }) => e.event_id)).toEqual(
      [6, 5, 4, 3, 2, 1, 0].map((m) => `evt-${m}`),
    );
    expect(res.body.pagination).toEqual({ limit: 50, offset: 0, total: 7, has_more: false });
    expect(res.body.events.at(-1)).toEqual({
      event_id: "evt-0",
      namespace: owner.namespace,
      service: a.slug,
      service_id: a.serviceId,
      public_key: k1,
      agent_key: toDidKey(parseCanonicalKey(k1)!),
      agent_id: "a1",
      subject: "alice",
      protocol: "http",
      action: "GET /repos",
      outcome: "success",
      status_code: 200,
      duration_ms: 12,
      response_bytes: 345,
      request_method: "GET",
      request_path: "/repos",
      remote_ip: "203.0.113.9",
      received_at: at(0),
    });
  });

  test("the same filters and pagination apply", async () => {
    const ids = (res: { body: { events: { event_id: string }[] } }) =>
      res.body.events.map((e) => e.event_id);
    expect(ids(await events("?subject=bob"))).toEqual(["evt-5", "evt-4", "evt-3"]);
    expect(ids(await events(`?provider=${b.slug}`))).toEqual(["evt-6", "evt-2"]);
    expect(ids(await events("?agent=a2"))).toEqual(["evt-6"]);
    expect(ids(await events(`?from=${at(4)}&to=${at(6)}`))).toEqual(["evt-5", "evt-4"]);
    const page = await events("?limit=3&offset=3");
    expect(ids(page)).toEqual(["evt-3", "evt-2", "evt-1"]);
    expect(page.body.pagination).toEqual({ limit: 3, offset: 3, total: 7, has_more: true });
    expect(page.body.applied_filters).toEqual({
      subject: null,
      provider: null,
      agent: null,
      from: null,
      to: null,
    });
    expectValidation(await events("?sort=recent"), "sort");
    expectValidation(await events("?limit=500"), "limit");
  });
});

describe("isolation", () => {
  test("another owner gets 404 for both views; no credentials is 401", async () => {
    for (const path of ["usage", "usage/events"]) {
      const url = `/v1/namespaces/${owner.namespace}/${path}`;
      expectError(await a.client.get<ApiErrorBody>(url), 404, "NOT_FOUND");
      expectError(await new ApiClient(t.url).get<ApiErrorBody>(url), 401, "UNAUTHORIZED");
      expectError(await serviceClient(t, a.apiKey).get<ApiErrorBody>(url), 401, "UNAUTHORIZED");
      expectError(
        await owner.client.get<ApiErrorBody>(`/v1/namespaces/no-such-ns/${path}`),
        404,
        "NOT_FOUND",
      );
    }
  });

  test("each owner sees only their namespace's events", async () => {
    const own = await a.client.get<UsageReport>(`/v1/namespaces/${a.namespace}/usage`);
    expect(own.status).toBe(200);
    expect(own.body.summary.total_events).toBe(1);
    expect(own.body.rows.map((r) => r.provider)).toEqual([a.slug]);
    const list = await b.client.get<UsageEventList>(`/v1/namespaces/${b.namespace}/usage/events`);
    expect(list.body.events).toHaveLength(1);
    expect(list.body.events[0]!.namespace).toBe(b.namespace);
  });

  test("a personal access token works like the session; the namespace is case-insensitive", async () => {
    const token = await owner.client.post<TokenCreated>("/v1/auth/tokens", { name: "reports" });
    const pat = new ApiClient(t.url, null);
    pat.bearer = token.body.token;
    const res = await pat.get<UsageReport>(`/v1/namespaces/${owner.namespace.toUpperCase()}/usage`);
    expect(res.status).toBe(200);
    expect(res.body.summary.total_events).toBe(7);
  });
});

describe("OpenAPI", () => {
  test("/openapi.json describes the three routes with their request and response schemas", async () => {
    const spec = (await new ApiClient(t.url).get<OpenApiDocument>("/openapi.json")).body;
    const post = spec.paths["/v1/usage/events"]!.post!;
    const body = post.requestBody!.content["application/json"]!.schema;
    expect(post.requestBody!.required).toBe(true);
    expect(body.required).toEqual([
      "event_id",
      "namespace",
      "service",
      "public_key",
      "subject",
      "protocol",
      "action",
      "outcome",
    ]);
    expect(body.additionalProperties).toBe(true);
    // Both successes, then the service route's error answers (http-api.md §1.2).
    expect(Object.keys(post.responses).sort()).toEqual(
      ["200", "201", "400", "401", "403", "404", "409", "413", "429", "503", "default"].sort(),
    );
    const grouped = spec.paths["/v1/namespaces/{namespace}/usage"]!.get!;
    expect(grouped.parameters.map((p) => p.name).sort()).toEqual(
      ["agent", "from", "limit", "namespace", "offset", "provider", "sort", "subject", "to"].sort(),
    );
    const report = grouped.responses["200"]!.content!["application/json"]!.schema;
    expect(Object.keys(report.properties!).sort()).toEqual(
      ["applied_filters", "pagination", "rows", "summary"].sort(),
    );
    const list = spec.paths["/v1/namespaces/{namespace}/usage/events"]!.get!;
    expect(
      list.responses["200"]!.content!["application/json"]!.schema.properties!.events,
    ).toBeDefined();
  });
});
