/**
 * Every agent-signature failure of signing.md §5 (and the other POST /v1/claims outcomes of
 * http-api.md §5), produced through the real HTTP server against a real libSQL file.
 *
 * The main server runs on a ManualClock frozen at a whole second close to the real time, so the
 * freshness window is tested to the exact second: default `created` values (real time) stay a few
 * seconds ahead of it, well inside the 30 s skew.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  contentDigest,
  generateIdentity,
  parseCanonicalKey,
  signRequest,
  toDidKey,
} from "../../src/signing/index.ts";
import {
  type Agent,
  claimBody,
  newAgent,
  type SignedCallOptions,
  signedCall,
  submitClaim,
} from "../helpers/agent.ts";
import { isRecord } from "../helpers/assertions.ts";
import {
  type JsonResponse,
  ManualClock,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  Claim,
  ClaimSubmitted,
  NamespaceInfo,
  VerifyAnswer,
} from "../helpers/types.ts";

const PUBLIC_URL = "https://registry.example.com";

type Sent = Record<string, string>;

/** A `tamper` that rewrites one header after signing. */
const edit =
  (name: string, f: (value: string) => string) =>
  (h: Sent): void => {
    h[name] = f(h[name] ?? "");
  };
interface Res<T = unknown> extends JsonResponse<T> {
  text: string;
  sent: Sent;
}

/** `signedCall` that also returns the headers actually sent (to check nothing is echoed). */
async function call<T = unknown>(
  t: TestServer,
  agent: Agent,
  method: string,
  path: string,
  body?: unknown,
  options: SignedCallOptions = {},
): Promise<Res<T>> {
  let sent: Sent = {};
  const res = await signedCall<T>(t, agent, method, path, body, {
    ...options,
    tamper: (h) => {
      options.tamper?.(h);
      sent = { ...h };
    },
  });
  return { ...res, text: JSON.stringify(res.body), sent };
}

interface Prepared {
  method: string;
  url: string;
  headers: Sent;
  body?: string;
}

/** A signed request built once, so it can be sent byte-identically more than once. */
async function prepare(
  t: TestServer,
  agent: Agent,
  method: string,
  path: string,
  body: unknown,
  options: { apiKey?: string; signedMethod?: string; nonce?: string; created?: number } = {},
): Promise<Prepared> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = await signRequest({
    method: options.signedMethod ?? method,
    url: `${t.url}${path}`,
    headers: {
      ...(text === undefined ? {} : { "content-type": "application/json" }),
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    },
    body: text,
    identity: agent,
    nonce: options.nonce,
    created: options.created,
  });
  return { method, url: `${t.url}${path}`, headers, body: text };
}

async function send(p: Prepared, extra: [string, string][] = []): Promise<Res<unknown>> {
  const headers = new Headers(p.headers);
  for (const [name, value] of extra) headers.append(name, value);
  const res = await fetch(p.url, { method: p.method, headers, body: p.body });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: body as never, text, sent: p.headers };
}

/** Status and code, the one error shape, and no signature, certificate or API key in the body. */
function expectError(
  res: Res<unknown>,
  status: number,
  code: ApiErrorBody["code"],
): asserts res is Res<ApiErrorBody> {
  const body = isRecord(res.body) ? res.body : undefined;
  expect({ status: res.status, code: body?.code }).toEqual({ status, code });
  expect(typeof body?.error).toBe("string");
  expect(String(body?.error).length).toBeGreaterThan(0);
  expect(typeof body?.request_id).toBe("string");
  expect(body?.request_id).toBe(res.headers.get("x-request-id"));
  const allowed = ["error", "code", "request_id", "details"];
  expect(Object.keys(body ?? {}).filter((k) => !allowed.includes(k))).toEqual([]);
  const signature = /^sig1=:(.+):$/.exec(res.sent.signature ?? "")?.[1];
  const secrets = [
    signature,
    res.sent["sigilum-agent-cert"],
    res.sent.authorization?.replace(/^Bearer /, ""),
  ];
  for (const secret of secrets) if (secret) expect(res.text).not.toContain(secret);
}

async function claimsFor(t: TestServer, publicKey: string) {
  const rs = await t.server.ctx.database.client.execute({
    sql: "SELECT id, status, namespace FROM claims WHERE public_key = ?",
    args: [publicKey],
  });
  return rs.rows.map((r) => ({
    id: String(r.id),
    status: String(r.status),
    namespace: String(r.namespace),
  }));
}

async function eventCountFor(t: TestServer, publicKey: string): Promise<number> {
  const rs = await t.server.ctx.database.client.execute({
    sql: "SELECT count(*) AS n FROM events WHERE claim_id IN (SELECT id FROM claims WHERE public_key = ?)",
    args: [publicKey],
  });
  return Number(rs.rows[0]!.n);
}

async function verifyWithKey(t: TestServer, s: ServiceSetup, namespace: string, key: string) {
  const q = new URLSearchParams({ namespace, public_key: key });
  const res = await fetch(`${t.url}/v1/verify?${q}`, {
    headers: { authorization: `Bearer ${s.apiKey}` },
  });
  return (await res.json()) as Record<string, unknown>;
}

const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
const nowSeconds = () => Math.floor(clock.now() / 1000);

let t: TestServer;
let s: ServiceSetup; // the namespace the agents live in, with the service they call
let other: ServiceSetup; // a second owner: another existing namespace and another service

beforeAll(async () => {
  t = await startTestServer({ clock });
  [s, other] = await Promise.all([ownerWithKey(t), ownerWithKey(t)]);
});
afterAll(() => t.close());

/** POST /v1/claims for a fresh agent of `s`, with the signature and body the options say. */
/** Submits a claim; `T` is the answer the test expects (the claim, or an error body). */
async function claim<T = ClaimSubmitted>(
  options: SignedCallOptions = {},
  extra: Record<string, unknown> = {},
) {
  const agent = await newAgent(s.namespace);
  const res = await call<T>(t, agent, "POST", "/v1/claims", claimBody(agent, s.slug, extra), {
    apiKey: s.apiKey,
    ...options,
  });
  return { agent, res };
}

describe("a valid signed claim (the baseline every failure below departs from)", () => {
  test("201 pending, stored once with one request.submitted event", async () => {
    const { agent, res } = await claim();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "pending", public_key: agent.publicKey });
    expect(await claimsFor(t, agent.publicKey)).toHaveLength(1);
    expect(await eventCountFor(t, agent.publicKey)).toBe(1);
  });

  test("a covered sigilum-agent-id is accepted", async () => {
    const { res } = await claim({ headers: { "sigilum-agent-id": "bot-7" } });
    expect(res.status).toBe(201);
    expect(res.sent["signature-input"]).toContain('"sigilum-agent-id"');
  });

  test("the body may name the signer's key in did:key form", async () => {
    const agent = await newAgent(s.namespace);
    const body = claimBody(agent, s.slug, {
      public_key: toDidKey(parseCanonicalKey(agent.publicKey)!),
    });
    const res = await call<ClaimSubmitted>(t, agent, "POST", "/v1/claims", body, {
      apiKey: s.apiKey,
    });
    expect(res.status).toBe(201);
    expect(res.body.public_key).toBe(agent.publicKey);
  });
});

describe("401 SIGNATURE_MISSING", () => {
  const required = [
    "signature-input",
    "signature",
    "sigilum-namespace",
    "sigilum-subject",
    "sigilum-agent-key",
    "sigilum-agent-cert",
  ];

  test.each(required)("without %s", async (name) => {
    const { agent, res } = await claim({
      tamper: (h) => {
        delete h[name];
      },
    });
    expectError(res, 401, "SIGNATURE_MISSING");
    expect(res.body.error).toContain(name);
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  test.each(required)("with a blank %s", async (name) => {
    const { res } = await claim({
      tamper: (h) => {
        h[name] = "   ";
      },
    });
    expectError(res, 401, "SIGNATURE_MISSING");
  });
});

describe("401 SIGNATURE_INVALID", () => {
  const reorderParams = (h: Sent) => {
    const m = /^(sig1=\([^)]*\));(created=\d+);(keyid="[^"]*");(alg="[^"]*");(nonce="[^"]*")$/.exec(
      h["signature-input"]!,
    )!;
    h["signature-input"] = `${m[1]};${m[5]};${m[2]};${m[3]};${m[4]}`;
  };
  const input = (f: (value: string) => string) => edit("signature-input", f);
  const malformedInputs: [string, (h: Sent) => void][] = [
    ["garbage", input(() => "sig1=nonsense")],
    ["another label", input((v) => v.replace("sig1=", "sig2="))],
    ["parameters out of order", reorderParams],
    ["alg other than ed25519", input((v) => v.replace('alg="ed25519"', 'alg="rsa-pss-sha512"'))],
    ["an extra expires parameter", input((v) => `${v};expires=9999999999`)],
    ["a non-integer created", input((v) => v.replace(/created=\d+/, "created=1.5"))],
    ["an empty nonce", input((v) => v.replace(/nonce="[^"]*"/, 'nonce=""'))],
    ["two labels", input((v) => `${v}, ${v.replace("sig1=", "sig2=")}`)],
  ];
  test.each(malformedInputs)("malformed signature-input: %s", async (_label, tamper) => {
    const { agent, res } = await claim({ tamper });
    expectError(res, 401, "SIGNATURE_INVALID");
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
  const flipFirstByte = (h: Sent) => {
    const raw = Buffer.from(/^sig1=:(.+):$/.exec(h.signature!)![1]!, "base64");
    raw[0] = raw[0]! ^ 0xff;
    h.signature = `sig1=:${raw.toString("base64")}:`;
  };
  const badSignatures: [string, (h: Sent) => void][] = [
    ["64 zero bytes", edit("signature", () => `sig1=:${b64(new Uint8Array(64))}:`)],
    ["one flipped byte", flipFirstByte],
    ["63 bytes", edit("signature", () => `sig1=:${b64(new Uint8Array(63))}:`)],
    ["not base64", edit("signature", () => "sig1=:!!!!:")],
    ["no sig1 wrapper", edit("signature", (v) => v.slice("sig1=".length))],
  ];
  test.each(badSignatures)("bad signature bytes: %s", async (_label, tamper) => {
    const { res } = await claim({ tamper });
    expectError(res, 401, "SIGNATURE_INVALID");
  });

  test("a signed header value changed after signing (sigilum-subject)", async () => {
    const { agent, res } = await claim({
      tamper: (h) => {
        h["sigilum-subject"] = "mallory";
      },
    });
    expectError(res, 401, "SIGNATURE_INVALID");
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  test("signed for another method", async () => {
    const agent = await newAgent(s.namespace);
    const p = await prepare(t, agent, "POST", "/v1/claims", claimBody(agent, s.slug), {
      apiKey: s.apiKey,
      signedMethod: "PUT",
    });
    expectError(await send(p), 401, "SIGNATURE_INVALID");
  });

  test.each([
    ["another path", (u: string) => `${u}/v1/claims/other`],
    [
      "another port",
      (u: string) => `${u.replace(/:(\d+)$/, (_m, port) => `:${Number(port) + 1}`)}/v1/claims`,
    ],
    ["https instead of http", (u: string) => `${u.replace("http:", "https:")}/v1/claims`],
    [
      "localhost instead of 127.0.0.1",
      (u: string) => `${u.replace("127.0.0.1", "localhost")}/v1/claims`,
    ],
    ["an added query", (u: string) => `${u}/v1/claims?x=1`],
  ])("signed for another URL: %s", async (_label, signedUrlFor) => {
    const { res } = await claim({ signedUrl: signedUrlFor(t.url) });
    expectError(res, 401, "SIGNATURE_INVALID");
  });

  test("a certificate whose publicKey differs from sigilum-agent-key", async () => {
    const stranger = await newAgent(s.namespace);
    const { res } = await claim({
      tamper: (h) => {
        h["sigilum-agent-cert"] = stranger.certificate;
      },
    });
    expectError(res, 401, "SIGNATURE_INVALID");
    expect(res.body.error).toContain("publicKey");
  });

  test("a certificate of another namespace (same key)", async () => {
    const agent = await newAgent(s.namespace);
    const twin = await generateIdentity(other.namespace, clock.now(), {
      seed: agent.privateKeySeed,
    });
    expect(twin.publicKey).toBe(agent.publicKey);
    const res = await call(t, agent, "POST", "/v1/claims", claimBody(agent, s.slug), {
      apiKey: s.apiKey,
      tamper: (h) => {
        h["sigilum-agent-cert"] = twin.certificate;
      },
    });
    expectError(res, 401, "SIGNATURE_INVALID");
    expect(res.body.error).toContain("namespace");
  });

  test("a certificate that has expired", async () => {
    const agent = await generateIdentity(s.namespace, clock.now() - 86_400_000, {
      expiresAt: new Date(clock.now() - 1000).toISOString(),
    });
    const res = await call(t, agent, "POST", "/v1/claims", claimBody(agent, s.slug), {
      apiKey: s.apiKey,
    });
    expectError(res, 401, "SIGNATURE_INVALID");
  });

  test("an undecodable certificate", async () => {
    const { res } = await claim({
      tamper: (h) => {
        h["sigilum-agent-cert"] = "bm90LWpzb24";
      },
    });
    expectError(res, 401, "SIGNATURE_INVALID");
  });

  test("a keyid that is not the certificate's", async () => {
    const { res } = await claim({
      tamper: (h) => {
        h["signature-input"] = h["signature-input"]!.replace(/#ed25519-[0-9a-f]+/, "#ed25519-00");
      },
    });
    expectError(res, 401, "SIGNATURE_INVALID");
  });

  test("a duplicated sigilum-namespace header", async () => {
    const agent = await newAgent(s.namespace);
    const p = await prepare(t, agent, "POST", "/v1/claims", claimBody(agent, s.slug), {
      apiKey: s.apiKey,
    });
    const res = await send(p, [["sigilum-namespace", s.namespace]]);
    expectError(res, 401, "SIGNATURE_INVALID");
    expect(res.body.error).toContain("duplicated");
  });

  test("a failed signature does not burn its nonce", async () => {
    const nonce = crypto.randomUUID();
    const agent = await newAgent(s.namespace);
    const bad = await call(t, agent, "POST", "/v1/claims", claimBody(agent, s.slug), {
      apiKey: s.apiKey,
      nonce,
      tamper: flipFirstByte,
    });
    expectError(bad, 401, "SIGNATURE_INVALID");
    const good = await call(t, agent, "POST", "/v1/claims", claimBody(agent, s.slug), {
      apiKey: s.apiKey,
      nonce,
    });
    expect(good.status).toBe(201);
  });
});

describe("401 SIGNATURE_EXPIRED (max age 300 s, max skew 30 s, server clock frozen)", () => {
  test.each([
    ["301 s old", -301],
    ["31 s in the future", 31],
    ["a day old", -86_400],
  ])("%s → 401", async (_label, offset) => {
    const { agent, res } = await claim({ created: nowSeconds() + offset });
    expectError(res, 401, "SIGNATURE_EXPIRED");
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  test.each([
    ["300 s old (the limit)", -300],
    ["299 s old", -299],
    ["29 s ahead", 29],
    ["30 s ahead (the limit)", 30],
  ])("%s → accepted", async (_label, offset) => {
    const { res } = await claim({ created: nowSeconds() + offset });
    expect(res.status).toBe(201);
  });

  test("an expired signature does not burn its nonce", async () => {
    const nonce = crypto.randomUUID();
    const { res } = await claim({ created: nowSeconds() - 301, nonce });
    expectError(res, 401, "SIGNATURE_EXPIRED");
    const again = await claim({ nonce });
    expect(again.res.status).toBe(201);
  });

  test("a request replayed after it aged past 300 s is EXPIRED (freshness is checked first)", async () => {
    const agent = await newAgent(s.namespace);
    const p = await prepare(t, agent, "POST", "/v1/claims", claimBody(agent, s.slug), {
      apiKey: s.apiKey,
      created: nowSeconds(),
    });
    expect((await send(p)).status).toBe(201);
    const saved = clock.ms;
    clock.advance(301_000);
    try {
      expectError(await send(p), 401, "SIGNATURE_EXPIRED");
    } finally {
      clock.ms = saved;
    }
  });
});

describe("403 route binding", () => {
  test("SIGNATURE_NAMESPACE_MISMATCH: body namespace is not the signer's", async () => {
    const { agent, res } = await claim({}, { namespace: other.namespace });
    expectError(res, 403, "SIGNATURE_NAMESPACE_MISMATCH");
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  test("SIGNATURE_KEY_MISMATCH: body public_key is not the signer's", async () => {
    const victim = await newAgent(s.namespace);
    const { agent, res } = await claim({}, { public_key: victim.publicKey });
    expectError(res, 403, "SIGNATURE_KEY_MISMATCH");
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
    expect(await claimsFor(t, victim.publicKey)).toEqual([]);
  });

  test("X-Sigilum-Claim-Binding: namespace-only lets a gateway submit for another key", async () => {
    const target = await newAgent(s.namespace);
    const { agent: gateway, res } = await claim(
      { headers: { "X-Sigilum-Claim-Binding": "namespace-only" } },
      { public_key: target.publicKey },
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: "pending",
      namespace: s.namespace,
      public_key: target.publicKey,
    });
    expect(await claimsFor(t, target.publicKey)).toEqual([
      { id: res.body.claim_id, status: "pending", namespace: s.namespace },
    ]);
    expect(await claimsFor(t, gateway.publicKey)).toEqual([]);
    expect(await verifyWithKey(t, s, s.namespace, target.publicKey)).toMatchObject({
      authorized: false,
      status: "pending",
    });
  });

  test("namespace-only still binds the namespace", async () => {
    const target = await newAgent(other.namespace);
    const { res } = await claim(
      { headers: { "x-sigilum-claim-binding": "namespace-only" } },
      { namespace: other.namespace, public_key: target.publicKey },
    );
    expectError(res, 403, "SIGNATURE_NAMESPACE_MISMATCH");
  });
});

describe("401 SIGNATURE_COMPONENTS_INVALID", () => {
  test('"content-digest" dropped from the covered components', async () => {
    const { agent, res } = await claim({
      tamper: (h) => {
        h["signature-input"] = h["signature-input"]!.replace('"content-digest" ', "");
      },
    });
    expectError(res, 401, "SIGNATURE_COMPONENTS_INVALID");
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  test("components reordered", async () => {
    const { res } = await claim({
      tamper: (h) => {
        h["signature-input"] = h["signature-input"]!.replace(
          '"@method" "@target-uri"',
          '"@target-uri" "@method"',
        );
      },
    });
    expectError(res, 401, "SIGNATURE_COMPONENTS_INVALID");
  });

  test("signed with no body, sent with one", async () => {
    const agent = await newAgent(s.namespace);
    const res = await call(t, agent, "POST", "/v1/claims", undefined, {
      apiKey: s.apiKey,
      headers: { "content-type": "application/json" },
      sentBody: JSON.stringify(claimBody(agent, s.slug)),
    });
    expect(res.sent["content-digest"]).toBeUndefined();
    expectError(res, 401, "SIGNATURE_COMPONENTS_INVALID");
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  test("a sigilum-agent-id header that the signature does not cover", async () => {
    const { res } = await claim({
      tamper: (h) => {
        h["sigilum-agent-id"] = "bot-7";
      },
    });
    expectError(res, 401, "SIGNATURE_COMPONENTS_INVALID");
  });

  test("sigilum-agent-id covered but not sent", async () => {
    const { res } = await claim({
      headers: { "sigilum-agent-id": "bot-7" },
      tamper: (h) => {
        delete h["sigilum-agent-id"];
      },
    });
    expectError(res, 401, "SIGNATURE_COMPONENTS_INVALID");
  });
});

describe("401 SIGNATURE_DIGEST_MISMATCH", () => {
  test("the body sent is not the body signed (same JSON, other bytes)", async () => {
    const agent = await newAgent(s.namespace);
    const body = claimBody(agent, s.slug);
    const res = await call(t, agent, "POST", "/v1/claims", body, {
      apiKey: s.apiKey,
      sentBody: JSON.stringify(body, null, 2),
    });
    expectError(res, 401, "SIGNATURE_DIGEST_MISMATCH");
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  test("the body sent carries another value", async () => {
    const agent = await newAgent(s.namespace);
    const body = claimBody(agent, s.slug);
    const res = await call(t, agent, "POST", "/v1/claims", body, {
      apiKey: s.apiKey,
      sentBody: JSON.stringify({ ...body, agent_name: "injected" }),
    });
    expectError(res, 401, "SIGNATURE_DIGEST_MISMATCH");
  });

  test("a content-digest in another algorithm", async () => {
    const { res } = await claim({
      tamper: (h) => {
        h["content-digest"] = h["content-digest"]!.replace("sha-256=", "sha-512=");
      },
    });
    expectError(res, 401, "SIGNATURE_DIGEST_MISMATCH");
  });

  test("digest fixed up to match a new body → the signature no longer verifies (INVALID)", async () => {
    const agent = await newAgent(s.namespace);
    const body = claimBody(agent, s.slug);
    const sentBody = JSON.stringify({ ...body, agent_name: "injected" });
    const res = await call(t, agent, "POST", "/v1/claims", body, {
      apiKey: s.apiKey,
      sentBody,
      tamper: (h) => {
        h["content-digest"] = contentDigest(new TextEncoder().encode(sentBody));
      },
    });
    expectError(res, 401, "SIGNATURE_INVALID");
  });
});

describe("409 SIGNATURE_NONCE_REPLAY", () => {
  test("the identical signed request twice: 201 then 409, one claim, one event", async () => {
    const agent = await newAgent(s.namespace);
    const p = await prepare(t, agent, "POST", "/v1/claims", claimBody(agent, s.slug), {
      apiKey: s.apiKey,
    });
    const first = await send(p);
    expect(first.status).toBe(201);
    const second = await send(p);
    expectError(second, 409, "SIGNATURE_NONCE_REPLAY");
    expect(await claimsFor(t, agent.publicKey)).toHaveLength(1);
    expect(await eventCountFor(t, agent.publicKey)).toBe(1);
  });

  test("a GET replayed is rejected too", async () => {
    const agent = await newAgent(s.namespace);
    const p = await prepare(t, agent, "GET", `/v1/namespaces/${s.namespace}`, undefined);
    expect((await send(p)).status).toBe(200);
    expectError(await send(p), 409, "SIGNATURE_NONCE_REPLAY");
  });

  test("nonces are scoped per namespace: same nonce in another namespace is fine, in the same one it is a replay", async () => {
    const nonce = `shared-${crypto.randomUUID()}`;
    const mine = await newAgent(s.namespace);
    const theirs = await newAgent(other.namespace);
    const sibling = await newAgent(s.namespace);
    const opts = { apiKey: s.apiKey, nonce };
    const a = await call(t, mine, "POST", "/v1/claims", claimBody(mine, s.slug), opts);
    const b = await call(t, theirs, "POST", "/v1/claims", claimBody(theirs, s.slug), opts);
    const c = await call(t, sibling, "POST", "/v1/claims", claimBody(sibling, s.slug), opts);
    expect([a.status, b.status]).toEqual([201, 201]);
    expectError(c, 409, "SIGNATURE_NONCE_REPLAY");
    expect(await claimsFor(t, sibling.publicKey)).toEqual([]);
  });
});

describe("GET /v1/verify with an agent signature (no API key)", () => {
  test("own namespace: 200 with the signer's status, authorized once approved", async () => {
    const agent = await newAgent(s.namespace);
    const path = `/v1/verify?namespace=${s.namespace}&service=${s.slug}`;
    const before = await call(t, agent, "GET", path);
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      authorized: false,
      status: "none",
      reason: "No approved authorization found",
    });

    const submitted = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
    expect(submitted.status).toBe(201);
    const pending = await call(t, agent, "GET", path);
    expect(pending.body).toMatchObject({ authorized: false, status: "pending" });

    expect(
      (await s.client.post<Claim>(`/v1/claims/${submitted.body.claim_id}/approve`)).status,
    ).toBe(200);
    const approved = await call(t, agent, "GET", path);
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      authorized: true,
      status: "approved",
      claim_id: submitted.body.claim_id,
    });
  });

  test("another namespace → 403 SIGNATURE_NAMESPACE_MISMATCH", async () => {
    const agent = await newAgent(s.namespace);
    const res = await call(
      t,
      agent,
      "GET",
      `/v1/verify?namespace=${other.namespace}&service=${s.slug}`,
    );
    expectError(res, 403, "SIGNATURE_NAMESPACE_MISMATCH");
  });

  test("neither API key nor signature → 401 UNAUTHORIZED", async () => {
    const res = await fetch(`${t.url}/v1/verify?namespace=${s.namespace}&service=${s.slug}`);
    const text = await res.text();
    expectError(
      { status: res.status, headers: res.headers, body: JSON.parse(text), text, sent: {} },
      401,
      "UNAUTHORIZED",
    );
  });

  test("a signature failure on verify uses the same codes (expired)", async () => {
    const agent = await newAgent(s.namespace);
    const res = await call(
      t,
      agent,
      "GET",
      `/v1/verify?namespace=${s.namespace}&service=${s.slug}`,
      undefined,
      {
        created: nowSeconds() - 301,
      },
    );
    expectError(res, 401, "SIGNATURE_EXPIRED");
  });
});

describe("GET /v1/namespaces/{namespace} with an agent signature", () => {
  test("the signer's namespace → 200 public facts only", async () => {
    const agent = await newAgent(s.namespace);
    const res = await call<NamespaceInfo>(t, agent, "GET", `/v1/namespaces/${s.namespace}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      did: `did:sigilum:${s.namespace}`,
      namespace: s.namespace,
      active: true,
    });
    expect(typeof res.body.active_claims).toBe("number");
    expect(res.text).not.toContain("@example.com");
  });

  test("another namespace → 403 SIGNATURE_NAMESPACE_MISMATCH", async () => {
    const agent = await newAgent(s.namespace);
    const res = await call(t, agent, "GET", `/v1/namespaces/${other.namespace}`);
    expectError(res, 403, "SIGNATURE_NAMESPACE_MISMATCH");
  });
});

describe("POST /v1/claims: API key, body and claim-nonce outcomes", () => {
  test("neither API key nor signature → 401 UNAUTHORIZED", async () => {
    const agent = await newAgent(s.namespace);
    const res = await fetch(`${t.url}/v1/claims`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(claimBody(agent, s.slug)),
    });
    const text = await res.text();
    expectError(
      { status: res.status, headers: res.headers, body: JSON.parse(text), text, sent: {} },
      401,
      "UNAUTHORIZED",
    );
  });

  test("a valid signature without an API key → 401 UNAUTHORIZED", async () => {
    const { agent, res } = await claim({ apiKey: undefined });
    expectError(res, 401, "UNAUTHORIZED");
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  test("an invalid API key with a valid signature → 401 UNAUTHORIZED", async () => {
    const { agent, res } = await claim({
      apiKey: `sgl_sk_prod_${"A".repeat(32)}abcdef`,
    });
    expectError(res, 401, "UNAUTHORIZED");
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  test("service other than the key's slug → 403 SERVICE_MISMATCH", async () => {
    const { agent, res } = await claim({}, { service: other.slug });
    expectError(res, 403, "SERVICE_MISMATCH");
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  test("a namespace nobody owns (signed by an agent of it) → 404 NAMESPACE_NOT_FOUND", async () => {
    const ghost = await newAgent(uniqueName("ghost"));
    const res = await call(t, ghost, "POST", "/v1/claims", claimBody(ghost, s.slug), {
      apiKey: s.apiKey,
    });
    expectError(res, 404, "NAMESPACE_NOT_FOUND");
    expect(await claimsFor(t, ghost.publicKey)).toEqual([]);
  });

  test("a body nonce reused with a fresh signature → 409 NONCE_REPLAY", async () => {
    const nonce = `body-nonce-${crypto.randomUUID()}`;
    const first = await claim({}, { nonce });
    expect(first.res.status).toBe(201);
    const second = await claim({}, { nonce });
    expectError(second.res, 409, "NONCE_REPLAY");
    expect(await claimsFor(t, second.agent.publicKey)).toEqual([]);
  });

  test("the same body nonce at another service is fine (unique per service)", async () => {
    const nonce = `body-nonce-${crypto.randomUUID()}`;
    const first = await claim({}, { nonce });
    expect(first.res.status).toBe(201);
    const agent = await newAgent(s.namespace);
    const res = await call(
      t,
      agent,
      "POST",
      "/v1/claims",
      claimBody(agent, other.slug, { nonce }),
      {
        apiKey: other.apiKey,
      },
    );
    expect(res.status).toBe(201);
  });

  test.each([
    ["agent_ip", { agent_ip: "999.1.2.3" }],
    ["agent_ip", { agent_ip: "10.0.0.0/8" }],
    ["agent_ip", { agent_ip: "example.com" }],
    ["nonce", { nonce: "short" }],
    // A string namespace binds first (an empty one is 403 SIGNATURE_NAMESPACE_MISMATCH, see
    // keyAndSignature.test.ts); a non-string one is left to validation.
    ["namespace", { namespace: 5 }],
  ])("invalid %s (%j) → 400 VALIDATION_ERROR", async (field, extra) => {
    const { agent, res } = await claim({}, extra);
    expectError(res, 400, "VALIDATION_ERROR");
    expect(res.body.details!.map((d: { field: string }) => d.field)).toContain(field);
    expect(await claimsFor(t, agent.publicKey)).toEqual([]);
  });

  test.each([
    "ed25519:not-base64",
    `ed25519:${Buffer.alloc(31).toString("base64")}`,
    "did:key:z6MkInvalid",
  ])("invalid public_key %s → 400 VALIDATION_ERROR (namespace-only binding)", async (key) => {
    const { res } = await claim(
      { headers: { "x-sigilum-claim-binding": "namespace-only" } },
      { public_key: key },
    );
    expectError(res, 400, "VALIDATION_ERROR");
    expect(res.body.details).toEqual([{ field: "public_key", message: expect.any(String) }]);
  });

  test("invalid public_key with full binding → 403 SIGNATURE_KEY_MISMATCH (it cannot be the signer's key)", async () => {
    const { res } = await claim({}, { public_key: "ed25519:not-base64" });
    expectError(res, 403, "SIGNATURE_KEY_MISMATCH");
  });

  // http-api.md §1.1: routes that services and agents call ignore unknown fields.
  test("unknown extra body fields are ignored → 201", async () => {
    const { agent, res } = await claim({}, { color: "blue", nested: { a: 1 }, sdk_version: "1.2" });
    expect(res.body).toMatchObject({ status: "pending", public_key: agent.publicKey });
    expect(res.status).toBe(201);
    expect("color" in res.body).toBe(false);
    expect(await claimsFor(t, agent.publicKey)).toHaveLength(1);
  });
});

describe("@target-uri through HTTP", () => {
  const query = () => `namespace=${s.namespace}&service=${s.slug}`;

  // Unknown query parameters are ignored by verify, and their order is part of the signed URL.
  test("query order is kept: signed …/v1/verify?…&b=2&a=1 and sent so → 200", async () => {
    const agent = await newAgent(s.namespace);
    const path = `/v1/verify?${query()}&b=2&a=1`;
    const res = await call(t, agent, "GET", path, undefined, { signedUrl: `${t.url}${path}` });
    expect(res.body).toMatchObject({ authorized: false, status: "none" });
    expect(res.status).toBe(200);
  });

  test("unknown query parameters reordered in the signed URL → 401 SIGNATURE_INVALID", async () => {
    const agent = await newAgent(s.namespace);
    const res = await call(t, agent, "GET", `/v1/verify?${query()}&b=2&a=1`, undefined, {
      signedUrl: `${t.url}/v1/verify?${query()}&a=1&b=2`,
    });
    expectError(res, 401, "SIGNATURE_INVALID");
  });

  // The same two properties with parameters the route accepts, so they hold today.
  const reversed = () => `service=${s.slug}&namespace=${s.namespace}`;

  test("query order is kept: signed …?service=…&namespace=… (reversed) and sent so → 200", async () => {
    const agent = await newAgent(s.namespace);
    const path = `/v1/verify?${reversed()}`;
    const res = await call(t, agent, "GET", path, undefined, { signedUrl: `${t.url}${path}` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      authorized: false,
      status: "none",
      reason: "No approved authorization found",
    });
  });

  test("sent …?service=…&namespace=…, signed with the query reordered → 401 SIGNATURE_INVALID", async () => {
    const agent = await newAgent(s.namespace);
    const res = await call(t, agent, "GET", `/v1/verify?${reversed()}`, undefined, {
      signedUrl: `${t.url}/v1/verify?${query()}`,
    });
    expectError(res, 401, "SIGNATURE_INVALID");
  });

  test("%2F is kept verbatim: signed as sent → 200, signed decoded → 401", async () => {
    let agent = await newAgent(s.namespace);
    while (!agent.publicKey.includes("/")) agent = await newAgent(s.namespace);
    const escaped = encodeURIComponent(agent.publicKey);
    expect(escaped).toContain("%2F");
    const path = `/v1/verify?${query()}&public_key=${escaped}`;
    const ok = await call<VerifyAnswer>(t, agent, "GET", path);
    expect(ok.status).toBe(200);
    expect(ok.body.status).toBe("none");
    const decoded = await call(t, agent, "GET", path, undefined, {
      signedUrl: `${t.url}/v1/verify?${query()}&public_key=${agent.publicKey}`,
    });
    expectError(decoded, 401, "SIGNATURE_INVALID");
  });

  test("a fragment on the signed URL is stripped (fetch never sends one) → 200", async () => {
    const agent = await newAgent(s.namespace);
    const path = `/v1/verify?${query()}`;
    const res = await call(t, agent, "GET", path, undefined, { signedUrl: `${t.url}${path}#frag` });
    expect(res.status).toBe(200);
  });
});

describe("behind a proxy", () => {
  let pub: TestServer; // SIGILUM_PUBLIC_URL=https://registry.example.com
  let trusting: TestServer; // SIGILUM_TRUST_PROXY=true
  let pubSetup: ServiceSetup;
  let trustingSetup: ServiceSetup;
  const forwarded = { "x-forwarded-proto": "https", "x-forwarded-host": "registry.example.com" };
  const httpsClaims = `${PUBLIC_URL}/v1/claims`;

  beforeAll(async () => {
    [pub, trusting] = await Promise.all([
      startTestServer({ env: { SIGILUM_PUBLIC_URL: PUBLIC_URL } }),
      startTestServer({ env: { SIGILUM_TRUST_PROXY: "true" } }),
    ]);
    // The browser-facing origin of the public-URL server is the public one (CSRF).
    [pubSetup, trustingSetup] = await Promise.all([
      ownerWithKey({ ...pub, origin: PUBLIC_URL }),
      ownerWithKey(trusting),
    ]);
  });
  afterAll(async () => {
    await Promise.all([pub?.close(), trusting?.close()]);
  });

  async function proxied(server: TestServer, setup: ServiceSetup, options: SignedCallOptions) {
    const agent = await newAgent(setup.namespace);
    const res = await call(server, agent, "POST", "/v1/claims", claimBody(agent, setup.slug), {
      apiKey: setup.apiKey,
      ...options,
    });
    return res;
  }

  test("SIGILUM_PUBLIC_URL: signed for the public https URL, sent to loopback → 201", async () => {
    const res = await proxied(pub, pubSetup, { signedUrl: httpsClaims });
    expect(res.status).toBe(201);
  });

  test("SIGILUM_PUBLIC_URL: signed for the loopback URL → 401 SIGNATURE_INVALID", async () => {
    const res = await proxied(pub, pubSetup, {});
    expectError(res, 401, "SIGNATURE_INVALID");
  });

  test("SIGILUM_PUBLIC_URL wins over X-Forwarded-* even when they say otherwise", async () => {
    const res = await proxied(pub, pubSetup, {
      signedUrl: httpsClaims,
      headers: { "x-forwarded-proto": "http", "x-forwarded-host": "evil.example" },
    });
    expect(res.status).toBe(201);
  });

  test("no public URL, no trusted proxy: the https-signed request → 401 SIGNATURE_INVALID", async () => {
    const { res } = await claim({ signedUrl: `${PUBLIC_URL}/v1/claims` });
    expectError(res, 401, "SIGNATURE_INVALID");
  });

  test("no trusted proxy: X-Forwarded-Proto/Host are ignored → 401 SIGNATURE_INVALID", async () => {
    const { res } = await claim({ signedUrl: `${PUBLIC_URL}/v1/claims`, headers: forwarded });
    expectError(res, 401, "SIGNATURE_INVALID");
  });

  test("SIGILUM_TRUST_PROXY=true with X-Forwarded-Proto/Host → 201", async () => {
    const res = await proxied(trusting, trustingSetup, {
      signedUrl: httpsClaims,
      headers: forwarded,
    });
    expect(res.status).toBe(201);
  });

  test("SIGILUM_TRUST_PROXY=true: the same URL with, then without X-Forwarded-* → 201, then 401", async () => {
    // The rebuilt URL is remembered per request URL and the headers it was built from.
    const withProxy = await proxied(trusting, trustingSetup, {
      signedUrl: httpsClaims,
      headers: forwarded,
    });
    expect(withProxy.status).toBe(201);
    const without = await proxied(trusting, trustingSetup, { signedUrl: httpsClaims });
    expectError(without, 401, "SIGNATURE_INVALID");
  });

  test("SIGILUM_TRUST_PROXY=true without forwarded headers: the https-signed one → 401", async () => {
    const res = await proxied(trusting, trustingSetup, { signedUrl: httpsClaims });
    expectError(res, 401, "SIGNATURE_INVALID");
  });
});
