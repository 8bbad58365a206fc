import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Agent, claimBody, newAgent, signedCall, submitClaim } from "../helpers/agent.ts";
import { expectError, expectValidation } from "../helpers/assertions.ts";
import {
  ApiClient,
  type JsonResponse,
  startTestServer,
  type TestServer,
} from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  Claim,
  ClaimList,
  ClaimSubmitted,
  ClaimWithHistory,
  Feed,
  Policy,
  VerifyAnswer,
} from "../helpers/types.ts";

// quality.md §2 on every claims route: bad input gets the documented 4xx with a `code` (never a
// 500) and the claims data is unchanged afterwards.

let t: TestServer;
let s: ServiceSetup;
let agent: Agent;
let pendingId: string;
let approvedId: string;
/** Presents only the service API key (no owner session, no Origin). */
let svc: ApiClient;

beforeAll(async () => {
  t = await startTestServer();
  s = await ownerWithKey(t);
  svc = new ApiClient(t.url, null);
  svc.bearer = s.apiKey;
  agent = await newAgent(s.namespace);
  pendingId = (await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug)).body.claim_id;
  const other = await newAgent(s.namespace);
  approvedId = (await submitClaim<ClaimSubmitted>(t, other, s.apiKey, s.slug)).body.claim_id;
  expect((await s.client.post<Claim>(`/v1/claims/${approvedId}/approve`)).status).toBe(200);
});
afterAll(() => t.close());

async function rows(sql: string) {
  const rs = await t.server.ctx.database.client.execute(sql);
  return rs.rows.map((r) => ({ ...r }));
}

/** Every row a claims route may write, in a stable order. */
async function snapshot(): Promise<string> {
  return JSON.stringify({
    claims: await rows("SELECT * FROM claims ORDER BY id"),
    claim_transitions: await rows("SELECT * FROM claim_transitions ORDER BY id"),
    events: await rows("SELECT * FROM events ORDER BY id"),
    claim_nonces: await rows("SELECT * FROM claim_nonces ORDER BY service_id, nonce"),
    namespace_policies: await rows("SELECT * FROM namespace_policies ORDER BY owner_id"),
    namespace_policy_services: await rows(
      "SELECT * FROM namespace_policy_services ORDER BY owner_id, service_id",
    ),
  });
}

/** Runs `cases`, each expecting `status`/`code` (and `field` among details), then checks nothing changed. */
type Case = [
  label: string,
  run: () => Promise<JsonResponse<unknown>>,
  status: number,
  code: ApiErrorBody["code"],
  field?: string,
];

async function expectAllRejected(cases: Case[]) {
  const before = await snapshot();
  for (const [label, run, status, code, field] of cases) {
    const res = await run();
    try {
      if (code === "VALIDATION_ERROR") expectValidation(res, field);
      else expectError(res, status, code);
      expect(res.status).toBe(status);
    } catch (err) {
      throw new Error(`${label}: ${(err as Error).message}`);
    }
  }
  expect(await snapshot()).toBe(before);
}

const JSON_CT = { "content-type": "application/json" };

/**
 * Raw bodies every JSON route must refuse the same way. Owner routes refuse a non-JSON
 * Content-Type (415); service/agent routes read any body as JSON (`anyContentType`, http-api.md
 * §1.1), so there the same requests carry malformed JSON and must get INVALID_JSON.
 */
function rawBodyCases(
  label: string,
  send: (body: string | undefined, headers: Record<string, string>) => Promise<JsonResponse>,
  anyContentType = false,
): Case[] {
  const deep = `${"[".repeat(40)}${"]".repeat(40)}`;
  const nonJson = anyContentType
    ? ([400, "INVALID_JSON"] as const)
    : ([415, "UNSUPPORTED_MEDIA_TYPE"] as const);
  return [
    [
      `${label} text/plain`,
      () => send(anyContentType ? '{"a":' : '{"a":1}', { "content-type": "text/plain" }),
      ...nonJson,
    ],
    [
      `${label} form`,
      () => send("a=1", { "content-type": "application/x-www-form-urlencoded" }),
      ...nonJson,
    ],
    [`${label} malformed`, () => send('{"namespace":', JSON_CT), 400, "INVALID_JSON"],
    [`${label} trailing comma`, () => send('{"reason":"x",}', JSON_CT), 400, "INVALID_JSON"],
    [
      `${label} oversize`,
      () => send(JSON.stringify({ reason: "x".repeat(70_000) }), JSON_CT),
      413,
      "PAYLOAD_TOO_LARGE",
    ],
    [`${label} array`, () => send("[]", JSON_CT), 400, "VALIDATION_ERROR", "body"],
    [`${label} string`, () => send('"text"', JSON_CT), 400, "VALIDATION_ERROR", "body"],
    [`${label} number`, () => send("42", JSON_CT), 400, "VALIDATION_ERROR", "body"],
    [`${label} null`, () => send("null", JSON_CT), 400, "VALIDATION_ERROR", "body"],
    [`${label} deep`, () => send(`{"reason":${deep}}`, JSON_CT), 400, "VALIDATION_ERROR", "body"],
    [
      `${label} __proto__`,
      () => send('{"__proto__":{"admin":true}}', JSON_CT),
      400,
      "VALIDATION_ERROR",
      "body",
    ],
  ];
}

describe("POST /v1/claims", () => {
  const post = (body: string | undefined, headers: Record<string, string>) =>
    svc.request<ClaimSubmitted>("POST", "/v1/claims", body, headers);
  const postJson = (body: unknown) => svc.post<ClaimSubmitted>("/v1/claims", body);
  const valid = () => claimBody(agent, s.slug);
  const without = (field: string) => {
    const b: Record<string, unknown> = valid();
    delete b[field];
    return b;
  };

  test("raw body problems: INVALID_JSON under any Content-Type, 413, non-object, no body", async () => {
    await expectAllRejected([
      ...rawBodyCases("claims", post, true),
      // The signature is checked before the body is validated (http-api.md §5).
      ["no body", () => post(undefined, {}), 401, "SIGNATURE_MISSING"],
      [
        "invalid UTF-8",
        async () => {
          const res = await fetch(`${t.url}/v1/claims`, {
            method: "POST",
            headers: { ...JSON_CT, authorization: `Bearer ${s.apiKey}` },
            body: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
          });
          return { status: res.status, headers: res.headers, body: await res.json() };
        },
        400,
        "INVALID_JSON",
      ],
    ]);
  });

  // The signature is checked first (http-api.md §5), so these are signed by the body's agent; a
  // string namespace or public_key that is not the signer's fails the binding before validation.
  test("missing fields, wrong types and strings out of range → 400 VALIDATION_ERROR (after the signature)", async () => {
    const signedPost = (body: unknown) =>
      signedCall<ClaimSubmitted>(t, agent, "POST", "/v1/claims", body, { apiKey: s.apiKey });
    const cases: Case[] = [];
    for (const field of ["namespace", "public_key", "service", "agent_ip", "nonce"]) {
      cases.push([
        `missing ${field}`,
        () => signedPost(without(field)),
        400,
        "VALIDATION_ERROR",
        field,
      ]);
    }
    for (const namespace of ["", "n".repeat(65)]) {
      cases.push([
        `namespace=${namespace.slice(0, 5)}`,
        () => signedPost({ ...valid(), namespace }),
        403,
        "SIGNATURE_NAMESPACE_MISMATCH",
      ]);
    }
    cases.push([
      "public_key too long",
      () => signedPost({ ...valid(), public_key: "p".repeat(201) }),
      403,
      "SIGNATURE_KEY_MISMATCH",
    ]);
    const bad: [string, unknown][] = [
      ["namespace", 5],
      ["public_key", { key: "x" }],
      ["service", ["svc"]],
      ["service", "s".repeat(65)],
      ["agent_ip", 7],
      ["agent_ip", "1"],
      ["nonce", 12_345_678],
      ["nonce", "short"],
      ["nonce", "n".repeat(257)],
      ["subject", 1],
      ["subject", ""],
      ["subject", "s".repeat(257)],
      ["agent_id", true],
      ["agent_id", "a".repeat(129)],
      ["agent_name", []],
      ["agent_name", "a".repeat(129)],
      ["agent_name", null],
    ];
    for (const [field, value] of bad) {
      cases.push([
        `${field}=${JSON.stringify(value).slice(0, 20)}`,
        () => signedPost({ ...valid(), [field]: value }),
        400,
        "VALIDATION_ERROR",
        field,
      ]);
    }
    await expectAllRejected(cases);
  });

  test("the longest accepted strings are accepted (nonce 256, subject 256, agent_id 128)", async () => {
    const fresh = await newAgent(s.namespace);
    const res = await submitClaim<ClaimSubmitted>(t, fresh, s.apiKey, s.slug, {
      nonce: "n".repeat(256),
      subject: "s".repeat(256),
      agent_id: "a".repeat(128),
      agent_name: "José 🚀 Ünïcødé",
    });
    expect(res.status).toBe(201);
    const claim = await s.client.get<ClaimWithHistory>(`/v1/claims/${res.body.claim_id}`);
    expect(claim.body).toMatchObject({
      subject: "s".repeat(256),
      agent_id: "a".repeat(128),
      agent_name: "José 🚀 Ünïcødé",
    });
  });

  test("credentials and binding: 401 without key or signature, 403/404 on mismatches, 400 on bad values", async () => {
    const ghost = await newAgent("ghost-namespace-nobody");
    await expectAllRejected([
      [
        "no API key",
        () => new ApiClient(t.url, null).post<ApiErrorBody>("/v1/claims", valid()),
        401,
        "UNAUTHORIZED",
      ],
      ["unsigned", () => postJson(valid()), 401, "SIGNATURE_MISSING"],
      [
        "bad agent_ip",
        () => submitClaim<ApiErrorBody>(t, agent, s.apiKey, s.slug, { agent_ip: "not-an-ip" }),
        400,
        "VALIDATION_ERROR",
        "agent_ip",
      ],
      [
        "CIDR agent_ip",
        () => submitClaim<ApiErrorBody>(t, agent, s.apiKey, s.slug, { agent_ip: "10.0.0.0/8" }),
        400,
        "VALIDATION_ERROR",
        "agent_ip",
      ],
      [
        "unparseable public_key (key binding)",
        () => submitClaim<ApiErrorBody>(t, agent, s.apiKey, s.slug, { public_key: "ed25519:abc" }),
        403,
        "SIGNATURE_KEY_MISMATCH",
      ],
      [
        "unparseable public_key (namespace-only binding)",
        () =>
          submitClaim<ApiErrorBody>(
            t,
            agent,
            s.apiKey,
            s.slug,
            { public_key: "ed25519:abc" },
            { headers: { "x-sigilum-claim-binding": "namespace-only" } },
          ),
        400,
        "VALIDATION_ERROR",
        "public_key",
      ],
      [
        "unknown namespace",
        () => submitClaim<ApiErrorBody>(t, ghost, s.apiKey, s.slug),
        404,
        "NAMESPACE_NOT_FOUND",
      ],
      [
        "another service's slug",
        () => submitClaim<ApiErrorBody>(t, agent, s.apiKey, "some-other-service"),
        403,
        "SERVICE_MISMATCH",
      ],
    ]);
  });

  test("a reused nonce → 409 NONCE_REPLAY and nothing is written", async () => {
    const fresh = await newAgent(s.namespace);
    const body = claimBody(fresh, s.slug);
    const first = await signedCall<ClaimSubmitted>(t, fresh, "POST", "/v1/claims", body, {
      apiKey: s.apiKey,
    });
    expect(first.status).toBe(201);
    await expectAllRejected([
      [
        "same nonce",
        () => signedCall<ApiErrorBody>(t, fresh, "POST", "/v1/claims", body, { apiKey: s.apiKey }),
        409,
        "NONCE_REPLAY",
      ],
    ]);
  });

  // http-api.md §1.1: the routes services and agents call ignore unknown fields (reference
  // clients send extra ones). Fixed in 34922b8; this pins it.
  test("unknown body fields are ignored", async () => {
    const fresh = await newAgent(s.namespace);
    const res = await submitClaim<ClaimSubmitted>(t, fresh, s.apiKey, s.slug, {
      client_version: "1.2.3",
      extra: {},
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("pending");
    expect(res.body).not.toHaveProperty("client_version");
  });
});

describe("owner decisions: approve / reject / revoke", () => {
  test("raw body problems and bad fields → 4xx, the claims unchanged", async () => {
    const cases: Case[] = [];
    for (const action of ["approve", "reject", "revoke"]) {
      for (const id of [pendingId, approvedId]) {
        const path = `/v1/claims/${id}/${action}`;
        cases.push(
          ...rawBodyCases(action, (body, headers) =>
            s.client.request<ApiErrorBody>("POST", path, body, headers),
          ),
        );
        const bad: [unknown, string][] = [
          [{ reason: "r".repeat(501) }, "reason"],
          [{ reason: 1 }, "reason"],
          [{ reason: ["x"] }, "reason"],
          [{ reason: "ok", status: "approved" }, "status"],
          [{ decision: "approve" }, "decision"],
        ];
        for (const [body, field] of bad) {
          cases.push([
            `${action} ${JSON.stringify(body).slice(0, 30)}`,
            () => s.client.post<ApiErrorBody>(path, body),
            400,
            "VALIDATION_ERROR",
            field,
          ]);
        }
      }
    }
    await expectAllRejected(cases);
    expect((await s.client.get<ClaimWithHistory>(`/v1/claims/${pendingId}`)).body.status).toBe(
      "pending",
    );
    expect((await s.client.get<ClaimWithHistory>(`/v1/claims/${approvedId}`)).body.status).toBe(
      "approved",
    );
  });

  test("unknown or invalid claim ids → 404 (or 400 when not an id at all)", async () => {
    const cases: Case[] = [];
    for (const id of ["claim_000000000000000000000000", "nope", "claim_ünïcødé", `${pendingId}x`]) {
      const p = `/v1/claims/${encodeURIComponent(id)}`;
      cases.push([`GET ${id}`, () => s.client.get<ApiErrorBody>(p), 404, "NOT_FOUND"]);
      for (const action of ["approve", "reject", "revoke"]) {
        cases.push([
          `${action} ${id}`,
          () => s.client.post<ApiErrorBody>(`${p}/${action}`),
          404,
          "NOT_FOUND",
        ]);
      }
    }
    const long = `/v1/claims/${"c".repeat(101)}`;
    cases.push([
      "GET over-long id",
      () => s.client.get<ApiErrorBody>(long),
      400,
      "VALIDATION_ERROR",
      "claimId",
    ]);
    cases.push([
      "approve over-long id",
      () => s.client.post<ApiErrorBody>(`${long}/approve`),
      400,
      "VALIDATION_ERROR",
      "claimId",
    ]);
    await expectAllRejected(cases);
  });

  test("no credentials → 401; a service API key is not an owner credential", async () => {
    const anon = new ApiClient(t.url, null);
    await expectAllRejected([
      ["anon GET", () => anon.get<ApiErrorBody>(`/v1/claims/${pendingId}`), 401, "UNAUTHORIZED"],
      [
        "anon approve",
        () => anon.post<ApiErrorBody>(`/v1/claims/${pendingId}/approve`),
        401,
        "UNAUTHORIZED",
      ],
      [
        "key approve",
        () => svc.post<ApiErrorBody>(`/v1/claims/${pendingId}/approve`),
        401,
        "UNAUTHORIZED",
      ],
      [
        "anon list",
        () => anon.get<ApiErrorBody>(`/v1/namespaces/${s.namespace}/claims`),
        401,
        "UNAUTHORIZED",
      ],
      [
        "anon policy",
        () => anon.get<ApiErrorBody>(`/v1/namespaces/${s.namespace}/policy`),
        401,
        "UNAUTHORIZED",
      ],
    ]);
  });
});

describe("GET /v1/namespaces/{namespace}/claims query", () => {
  const list = (q: string) => s.client.get<ClaimList>(`/v1/namespaces/${s.namespace}/claims?${q}`);

  test("limit/offset out of range, unknown params and unknown status → 400 VALIDATION_ERROR", async () => {
    const cases: Case[] = [];
    for (const q of ["limit=0", "limit=201", "limit=-1", "offset=-1"]) {
      // (the details name the wrong field for these: pinned below)
      cases.push([q, () => list(q), 400, "VALIDATION_ERROR"]);
    }
    for (const q of ["limit=abc", "limit=1.5", "limit=", "offset=abc"]) {
      cases.push([q, () => list(q), 400, "VALIDATION_ERROR", q.split("=")[0]]);
    }
    for (const [q, field] of [
      ["foo=1", "foo"],
      ["page=2", "page"],
      ["status=bogus", "status"],
      ["status=APPROVED", "status"],
      ["service=-bad-", "service"],
      [`service=${"s".repeat(65)}`, "service"],
    ] as const) {
      cases.push([q, () => list(q), 400, "VALIDATION_ERROR", field]);
    }
    cases.push([
      "namespace too long",
      () => s.client.get<ApiErrorBody>(`/v1/namespaces/${"n".repeat(65)}/claims`),
      400,
      "VALIDATION_ERROR",
      "namespace",
    ]);
    await expectAllRejected(cases);
    expect((await list("limit=200&offset=0")).status).toBe(200);
  });

  // Ranges are checked by pageOf so the detail names the field (http-api.md §1.2).
  test("an out-of-range limit names `limit` in the error details", async () => {
    expectValidation(await list("limit=0"), "limit");
    expectValidation(await list("offset=-1"), "offset");
  });
});

describe("PUT /v1/namespaces/{namespace}/policy", () => {
  test("raw body problems and bad fields → 4xx, the policy unchanged", async () => {
    const path = `/v1/namespaces/${s.namespace}/policy`;
    expect((await s.client.put<Policy>(path, { auto_approve_services: [s.slug] })).status).toBe(
      200,
    );
    await expectAllRejected([
      ...rawBodyCases("policy", (body, headers) =>
        s.client.request<Policy>("PUT", path, body, headers),
      ),
      [
        "no body",
        () => s.client.request<ApiErrorBody>("PUT", path, undefined, {}),
        400,
        "VALIDATION_ERROR",
        "body",
      ],
      [
        "unknown field",
        () => s.client.put<ApiErrorBody>(path, { auto_approve_services: [], x: 1 }),
        400,
        "VALIDATION_ERROR",
        "x",
      ],
      [
        "null list",
        () => s.client.put<ApiErrorBody>(path, { auto_approve_services: null }),
        400,
        "VALIDATION_ERROR",
        "auto_approve_services",
      ],
      [
        "bad slug",
        () => s.client.put<ApiErrorBody>(path, { auto_approve_services: ["Bad Slug!"] }),
        400,
        "VALIDATION_ERROR",
        "auto_approve_services.0",
      ],
      [
        "namespace too long",
        () =>
          s.client.put<ApiErrorBody>(`/v1/namespaces/${"n".repeat(65)}/policy`, {
            auto_approve_services: [],
          }),
        400,
        "VALIDATION_ERROR",
        "namespace",
      ],
    ]);
    expect((await s.client.get<Policy>(path)).body.auto_approve_services).toEqual([
      { id: s.serviceId, slug: s.slug },
    ]);
  });
});

describe("runtime queries: verify, feed, namespace info", () => {
  test("bad query values → 400 VALIDATION_ERROR", async () => {
    const pk = encodeURIComponent(agent.publicKey);
    await expectAllRejected([
      [
        "verify without namespace",
        () => svc.get<ApiErrorBody>(`/v1/verify?public_key=${pk}`),
        400,
        "VALIDATION_ERROR",
        "namespace",
      ],
      [
        "verify empty namespace",
        () => svc.get<ApiErrorBody>(`/v1/verify?namespace=&public_key=${pk}`),
        400,
        "VALIDATION_ERROR",
        "namespace",
      ],
      [
        "verify namespace too long",
        () => svc.get<ApiErrorBody>(`/v1/verify?namespace=${"n".repeat(65)}&public_key=${pk}`),
        400,
        "VALIDATION_ERROR",
        "namespace",
      ],
      [
        "verify public_key too long",
        () =>
          svc.get<ApiErrorBody>(
            `/v1/verify?namespace=${s.namespace}&public_key=${"p".repeat(201)}`,
          ),
        400,
        "VALIDATION_ERROR",
        "public_key",
      ],
      [
        "verify public_key garbage",
        () => svc.get<ApiErrorBody>(`/v1/verify?namespace=${s.namespace}&public_key=%00%01`),
        400,
        "VALIDATION_ERROR",
        "public_key",
      ],
      [
        "feed limit abc",
        () => svc.get<ApiErrorBody>("/v1/namespaces/claims?limit=abc"),
        400,
        "VALIDATION_ERROR",
        "limit",
      ],
      [
        "feed offset -1",
        () => svc.get<ApiErrorBody>("/v1/namespaces/claims?offset=-1"),
        400,
        "VALIDATION_ERROR",
      ],
      [
        "feed updated_since too long",
        () => svc.get<ApiErrorBody>(`/v1/namespaces/claims?updated_since=${"1".repeat(65)}`),
        400,
        "VALIDATION_ERROR",
        "updated_since",
      ],
      [
        "feed POST",
        () => svc.post<ApiErrorBody>("/v1/namespaces/claims", {}),
        405,
        "METHOD_NOT_ALLOWED",
      ],
      [
        "namespace info too long",
        () => svc.get<ApiErrorBody>(`/v1/namespaces/${"n".repeat(65)}`),
        400,
        "VALIDATION_ERROR",
        "namespace",
      ],
    ]);
  });

  // http-api.md §1.1 again, for the query strings of verify and the feed.
  test("verify and the feed ignore unknown query parameters", async () => {
    const pk = encodeURIComponent(agent.publicKey);
    const verified = await svc.get<VerifyAnswer>(
      `/v1/verify?namespace=${s.namespace}&public_key=${pk}&foo=1`,
    );
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ authorized: false, status: "pending" });
    const feed = await svc.get<Feed>("/v1/namespaces/claims?client=ref-impl");
    expect(feed.status).toBe(200);
    expect(feed.body.claims.map((c: { claim_id: string }) => c.claim_id)).toContain(approvedId);
  });
});
