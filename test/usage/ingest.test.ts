/**
 * POST /v1/usage/events (http-api.md §5 "Usage events") through the real server: the reference
 * gateway's body, idempotency per service (also under concurrency and across instances),
 * authentication, the optional agent signature, and the service/namespace checks.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseCanonicalKey, toDidKey } from "../../src/signing/index.ts";
import { type Agent, newAgent, signedCall, submitClaim } from "../helpers/agent.ts";
import { expectError } from "../helpers/assertions.ts";
import { signUp, startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  ApiKey,
  ApiKeyCreated,
  ClaimSubmitted,
  Deleted,
  TokenCreated,
  UsageAccepted,
} from "../helpers/types.ts";
import { eventId, gatewayEvent, report, serviceClient, usageRows } from "./support.ts";

let t: TestServer;
/** The service (and its owner) that reports. */
let s: ServiceSetup;
/** A second service, of another owner, reporting into the same namespace. */
let s2: ServiceSetup;
/** The namespace the events are about, and its owner. */
let ns: Awaited<ReturnType<typeof signUp>>;
let agent: Agent;

beforeAll(async () => {
  t = await startTestServer();
  s = await ownerWithKey(t);
  s2 = await ownerWithKey(t);
  ns = await signUp(t);
  agent = await newAgent(ns.namespace);
});
afterAll(() => t.close());

describe("POST /v1/usage/events", () => {
  test("stores the reference gateway's event (unknown fields ignored) and answers 201", async () => {
    const body = gatewayEvent(ns.namespace, s.slug, agent.publicKey);
    const res = await report(serviceClient(t, s.apiKey), body);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ event_id: body.event_id, accepted: true, duplicate: false });
    const [row] = await usageRows(t, "event_id = ?", [body.event_id]);
    expect(row).toMatchObject({
      namespace: ns.namespace,
      service_id: s.serviceId,
      service_slug: s.slug,
      public_key: agent.publicKey,
      subject: "alice@example.com",
      agent_id: "agent-1",
      protocol: "http",
      action: "GET /repos",
      outcome: "success",
      status_code: 200,
      duration_ms: 12,
      response_bytes: 345,
      request_method: "GET",
      request_path: "/repos",
      remote_ip: "203.0.113.9",
    });
    expect(JSON.stringify(row)).not.toContain("ignored");
  });

  test("reads the body as JSON whatever the Content-Type the gateway's transport sends", async () => {
    for (const contentType of [
      null,
      "text/plain;charset=UTF-8",
      "application/x-www-form-urlencoded",
    ]) {
      const body = gatewayEvent(ns.namespace, s.slug, agent.publicKey);
      const headers: Record<string, string> = { authorization: `Bearer ${s.apiKey}` };
      if (contentType) headers["content-type"] = contentType;
      const res = await fetch(`${t.url}/v1/usage/events`, {
        method: "POST",
        headers,
        body: new Blob([JSON.stringify(body)]),
      });
      expect(res.status).toBe(201);
      expect((await usageRows(t, "event_id = ?", [body.event_id])).length).toBe(1);
    }
  });

  test("a repeated event_id is 200 duplicate and stores nothing more", async () => {
    const client = serviceClient(t, s.apiKey);
    const body = gatewayEvent(ns.namespace, s.slug, agent.publicKey);
    expect((await report(client, body)).status).toBe(201);
    const again = await report(client, { ...body, outcome: "error" });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ event_id: body.event_id, accepted: true, duplicate: true });
    const rows = await usageRows(t, "event_id = ?", [body.event_id]);
    expect(rows.map((r) => r.outcome)).toEqual(["success"]);
  });

  test("event ids are scoped per service: another service's same id is a new event", async () => {
    const body = gatewayEvent(ns.namespace, s.slug, agent.publicKey);
    expect((await report(serviceClient(t, s.apiKey), body)).status).toBe(201);
    const other = await report(serviceClient(t, s2.apiKey), { ...body, service: s2.slug });
    expect(other.status).toBe(201);
    expect(other.body.duplicate).toBe(false);
    const rows = await usageRows(t, "event_id = ?", [body.event_id]);
    expect(rows.map((r) => r.service_id).sort()).toEqual([s.serviceId, s2.serviceId].sort());
  });

  test("concurrent duplicates: exactly one 201, the rest 200, one row, no 500", async () => {
    const client = serviceClient(t, s.apiKey);
    const body = gatewayEvent(ns.namespace, s.slug, agent.publicKey);
    const answers = await Promise.all(Array.from({ length: 20 }, () => report(client, body)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((x) => x === 201)).toHaveLength(1);
    expect(statuses.filter((x) => x === 200)).toHaveLength(19);
    expect(answers.filter((a) => a.status === 200).every((a) => a.body.duplicate)).toBe(true);
    expect(await usageRows(t, "event_id = ?", [body.event_id])).toHaveLength(1);
  });

  test("normalises: any key form, namespace case, method case, IP with port, nulls", async () => {
    const raw = parseCanonicalKey(agent.publicKey)!;
    const client = serviceClient(t, s.apiKey);
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [
        { public_key: toDidKey(raw), namespace: ns.namespace.toUpperCase(), request_method: "get" },
        { public_key: agent.publicKey, namespace: ns.namespace, request_method: "GET" },
      ],
      [
        { public_key: toDidKey(raw).slice("did:key:".length), remote_ip: "203.0.113.9:4711" },
        { public_key: agent.publicKey, remote_ip: "203.0.113.9" },
      ],
      [{ remote_ip: "[2001:DB8::1]:443" }, { remote_ip: "2001:db8::1" }],
      [
        {
          agent_id: null,
          status_code: null,
          duration_ms: null,
          response_bytes: null,
          request_method: null,
          request_path: null,
          remote_ip: null,
          protocol: "mcp",
          subject: "  José 🚀  ",
          event_id: "  spaced-id  ",
        },
        {
          agent_id: null,
          status_code: null,
          duration_ms: null,
          response_bytes: null,
          request_method: null,
          request_path: null,
          remote_ip: null,
          protocol: "mcp",
          subject: "José 🚀",
          event_id: "spaced-id",
        },
      ],
    ];
    for (const [input, stored] of cases) {
      const body = gatewayEvent(ns.namespace, s.slug.toUpperCase(), agent.publicKey, input);
      const res = await report(client, body);
      expect(res.status).toBe(201);
      const [row] = await usageRows(t, "service_id = ? AND event_id = ?", [
        s.serviceId,
        res.body.event_id,
      ]);
      expect(row).toMatchObject(stored);
    }
  });

  test("optional fields may be left out", async () => {
    const body = {
      event_id: eventId(),
      namespace: ns.namespace,
      service: s.slug,
      public_key: agent.publicKey,
      subject: "bob",
      protocol: "http",
      action: "tools/call",
      outcome: "denied",
    };
    expect((await report(serviceClient(t, s.apiKey), body)).status).toBe(201);
  });

  test("403 SERVICE_MISMATCH when `service` is not the key's service; nothing stored", async () => {
    const body = gatewayEvent(ns.namespace, s2.slug, agent.publicKey);
    expectError(await report(serviceClient(t, s.apiKey), body), 403, "SERVICE_MISMATCH");
    expect(await usageRows(t, "event_id = ?", [body.event_id])).toHaveLength(0);
  });

  test("404 NAMESPACE_NOT_FOUND for a namespace nobody owns", async () => {
    const body = gatewayEvent("no-such-namespace-here", s.slug, agent.publicKey);
    expectError(await report(serviceClient(t, s.apiKey), body), 404, "NAMESPACE_NOT_FOUND");
    expect(await usageRows(t, "event_id = ?", [body.event_id])).toHaveLength(0);
  });

  test("401 without a key, with a bad or revoked key, or with an owner token", async () => {
    const body = gatewayEvent(ns.namespace, s.slug, agent.publicKey);
    const anonymous = serviceClient(t, "");
    anonymous.bearer = null;
    expectError(await report(anonymous, body), 401, "UNAUTHORIZED");
    // Its last character changed: a key ending in "x" would otherwise stay the same key.
    const wrongKey = `${s.apiKey.slice(0, -1)}${s.apiKey.endsWith("x") ? "y" : "x"}`;
    expectError(await report(serviceClient(t, wrongKey), body), 401, "UNAUTHORIZED");
    const token = await ns.client.post<TokenCreated>("/v1/auth/tokens", { name: "ci" });
    expectError(await report(serviceClient(t, token.body.token), body), 401, "UNAUTHORIZED");

    const extra = await s.client.post<ApiKeyCreated>(`/v1/services/${s.serviceId}/keys`);
    await s.client.delete<ApiKey>(`/v1/services/${s.serviceId}/keys/${extra.body.id}`);
    expectError(await report(serviceClient(t, extra.body.key), body), 401, "UNAUTHORIZED");
    expect(await usageRows(t, "event_id = ?", [body.event_id])).toHaveLength(0);
  });
});

describe("agent signature on POST /v1/usage/events", () => {
  test("a valid signature for the event's namespace is accepted", async () => {
    const body = gatewayEvent(ns.namespace, s.slug, agent.publicKey);
    const res = await signedCall<UsageAccepted>(t, agent, "POST", "/v1/usage/events", body, {
      apiKey: s.apiKey,
    });
    expect(res.status).toBe(201);
  });

  test("a present but bad signature is 401, never ignored; nothing stored", async () => {
    const body = gatewayEvent(ns.namespace, s.slug, agent.publicKey);
    const res = await signedCall<ApiErrorBody>(t, agent, "POST", "/v1/usage/events", body, {
      apiKey: s.apiKey,
      tamper: (h) => {
        h.signature = h.signature!.replace(
          /^sig1=:(.)/,
          (_, c) => `sig1=:${c === "A" ? "B" : "A"}`,
        );
      },
    });
    expectError(res, 401, "SIGNATURE_INVALID");
    const altered = await signedCall<ApiErrorBody>(t, agent, "POST", "/v1/usage/events", body, {
      apiKey: s.apiKey,
      sentBody: JSON.stringify({ ...body, outcome: "error" }),
    });
    expectError(altered, 401, "SIGNATURE_DIGEST_MISMATCH");
    expect(await usageRows(t, "event_id = ?", [body.event_id])).toHaveLength(0);
  });

  test("a signature from another namespace is 403 SIGNATURE_NAMESPACE_MISMATCH", async () => {
    const stranger = await newAgent(s.namespace);
    const body = gatewayEvent(ns.namespace, s.slug, agent.publicKey);
    const res = await signedCall<ApiErrorBody>(t, stranger, "POST", "/v1/usage/events", body, {
      apiKey: s.apiKey,
    });
    expectError(res, 403, "SIGNATURE_NAMESPACE_MISMATCH");
    expect(await usageRows(t, "event_id = ?", [body.event_id])).toHaveLength(0);
  });

  test("a signature without an API key is still 401 (the key is required)", async () => {
    const body = gatewayEvent(ns.namespace, s.slug, agent.publicKey);
    const res = await signedCall<ApiErrorBody>(t, agent, "POST", "/v1/usage/events", body);
    expectError(res, 401, "UNAUTHORIZED");
  });
});

describe("rate limit and other instances", () => {
  test("rate limited per key in a bucket of its own (claims keep working)", async () => {
    const limited = await startTestServer({ env: { SIGILUM_RATE_LIMIT_CLAIMS: "3" } });
    try {
      const svc = await ownerWithKey(limited);
      const owner = await signUp(limited);
      const who = await newAgent(owner.namespace);
      const client = serviceClient(limited, svc.apiKey);
      for (let i = 0; i < 3; i++) {
        const ok = await report(client, gatewayEvent(owner.namespace, svc.slug, who.publicKey));
        expect(ok.status).toBe(201);
      }
      const over = await report(client, gatewayEvent(owner.namespace, svc.slug, who.publicKey));
      expectError(over, 429, "RATE_LIMITED");
      expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
      const claim = await submitClaim<ClaimSubmitted>(limited, who, svc.apiKey, svc.slug);
      expect(claim.status).toBe(201);
    } finally {
      await limited.close();
    }
  });

  test("a namespace deleted on another instance is 404 there too, even while cached", async () => {
    const a = await startTestServer({ env: { SIGILUM_CACHE_TTL: "60s" } });
    const b = await startTestServer({ env: { SIGILUM_CACHE_TTL: "60s" }, dataDir: a.dataDir });
    try {
      const svc = await ownerWithKey(a);
      const owner = await signUp(a);
      const who = await newAgent(owner.namespace);
      const onB = serviceClient(b, svc.apiKey);
      expect(
        (await report(onB, gatewayEvent(owner.namespace, svc.slug, who.publicKey))).status,
      ).toBe(201);
      expect((await owner.client.delete<Deleted>("/v1/auth/account")).status).toBe(200);
      const late = gatewayEvent(owner.namespace, svc.slug, who.publicKey);
      expectError(await report(onB, late), 404, "NAMESPACE_NOT_FOUND");
      expect(await usageRows(a, "namespace = ?", [owner.namespace])).toHaveLength(0);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
