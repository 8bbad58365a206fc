import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expirePendingClaims } from "../../src/claims/lifecycle.ts";
import { parseAgentKey, toDidKey, toMultibaseKey } from "../../src/signing/index.ts";
import { type Agent, newAgent, submitClaim } from "../helpers/agent.ts";
import { expectError, expectValidation, ISO_MS } from "../helpers/assertions.ts";
import {
  ApiClient,
  type JsonResponse,
  ManualClock,
  signUp,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  ApiKey,
  ApiKeyCreated,
  Claim,
  ClaimSubmitted,
  ClaimWithHistory,
  Deleted,
  Feed,
  NamespaceInfo,
  Service,
  UserBody,
  VerifyAnswer,
} from "../helpers/types.ts";

// http-api.md §5 "Runtime checks": the approved-claims feed, verify with an API key, and the
// public facts about a namespace. A ManualClock drives the server so timestamps are exact.

const clock = new ManualClock();
let t: TestServer;
type Owner = Awaited<ReturnType<typeof signUp>>;
/** Two long-lived owners (sign-up hashes a password, so it is the slow part); tests get fresh services. */
let ownerA: Owner;
let ownerB: Owner;

beforeAll(async () => {
  t = await startTestServer({ clock });
  [ownerA, ownerB] = await Promise.all([signUp(t), signUp(t)]);
});

/** A new service with one API key for an existing owner: its feed starts empty. */
async function freshService(owner: Owner): Promise<ServiceSetup> {
  const slug = uniqueName("feed");
  const service = await owner.client.post<Service>("/v1/services", { slug, name: "Feed" });
  if (service.status !== 201) throw new Error(`service: ${service.status}`);
  const key = await owner.client.post<ApiKeyCreated>(`/v1/services/${service.body.id}/keys`);
  if (key.status !== 201) throw new Error(`key: ${key.status}`);
  return {
    client: owner.client,
    namespace: owner.namespace,
    serviceId: service.body.id,
    slug,
    apiKey: key.body.key,
  };
}
afterAll(() => t.close());

const FEED_CLAIM_KEYS = [
  "agent_id",
  "agent_key",
  "agent_name",
  "approved_at",
  "claim_id",
  "namespace",
  "public_key",
  "service",
  "status",
  "subject",
  "updated_at",
];

/** A client that presents only the given service API key. */
function keyClient(apiKey: string): ApiClient {
  const c = new ApiClient(t.url, null);
  c.bearer = apiKey;
  return c;
}

/** The key with its last character changed (always a different key). */
function wrongKey(apiKey: string): string {
  return `${apiKey.slice(0, -1)}${apiKey.endsWith("x") ? "y" : "x"}`;
}

function agentIn(namespace: string): Promise<Agent> {
  return newAgent(namespace, clock.now());
}

/** Submits a claim signed at the server's (manual) time; returns the created claim's id. */
async function submit(
  s: Pick<ServiceSetup, "apiKey" | "slug">,
  agent: Agent,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug, extra, {
    created: Math.floor(clock.now() / 1000),
  });
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.claim_id;
}

async function decide(
  owner: ApiClient,
  claimId: string,
  action: string,
): Promise<JsonResponse<Claim>> {
  clock.advance(1000);
  const res = await owner.post<Claim>(`/v1/claims/${claimId}/${action}`);
  if (res.status !== 200) throw new Error(`${action}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

function feed(apiKey: string, query: Record<string, string> = {}, headers = {}) {
  const qs = new URLSearchParams(query).toString();
  return keyClient(apiKey).get<Feed>(`/v1/namespaces/claims${qs ? `?${qs}` : ""}`, headers);
}

function verify(apiKey: string | null, query: Record<string, string>) {
  const c = apiKey ? keyClient(apiKey) : new ApiClient(t.url, null);
  return c.get<VerifyAnswer>(`/v1/verify?${new URLSearchParams(query)}`);
}

describe("GET /v1/namespaces/claims (the approved-claims feed)", () => {
  test("lists only the key's service's approved claims, across namespaces, with FeedClaim fields", async () => {
    const s = await freshService(ownerA);
    const other = await freshService(ownerB);
    const a1 = await agentIn(s.namespace);
    const a2 = await agentIn(s.namespace);
    const a3 = await agentIn(s.namespace);
    const b1 = await agentIn(other.namespace);

    const approved = await submit(s, a1, {
      subject: "alice",
      agent_id: "agent-7",
      agent_name: "Helper",
    });
    const approvedAt = clock.now() + 1000;
    await decide(s.client, approved, "approve");
    await submit(s, a2); // stays pending
    await decide(s.client, await submit(s, a3), "reject");
    // Another namespace's claim on this service (its namespace owner approves it) is listed…
    const fromOtherNs = await submit(s, b1);
    await decide(other.client, fromOtherNs, "approve");
    // …but an approved claim on another service is not.
    await decide(s.client, await submit(other, a1), "approve");

    const res = await feed(s.apiKey);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["claims", "cursor", "pagination"]);
    expect(res.body.claims.map((c: { claim_id: string }) => c.claim_id)).toEqual([
      approved,
      fromOtherNs,
    ]);
    expect(res.body.pagination).toEqual({ limit: 50, offset: 0, total: 2, has_more: false });
    expect(res.body.cursor).toMatch(/^cur_\d+$/);

    const first = res.body.claims[0];
    expect(Object.keys(first!).sort()).toEqual(FEED_CLAIM_KEYS);
    expect(first).toEqual({
      claim_id: approved,
      namespace: s.namespace,
      service: s.slug,
      public_key: a1.publicKey,
      agent_key: toDidKey(parseAgentKey(a1.publicKey)!),
      subject: "alice",
      agent_id: "agent-7",
      agent_name: "Helper",
      status: "approved",
      approved_at: new Date(approvedAt).toISOString(),
      updated_at: new Date(approvedAt).toISOString(),
    });
    expect(res.body.claims[1]).toMatchObject({
      namespace: other.namespace,
      service: s.slug,
      public_key: b1.publicKey,
      subject: null,
      agent_id: null,
      agent_name: null,
    });
  });

  test("updated_since=<cursor> returns only what changed since, revoked claims as tombstones", async () => {
    const s = await freshService(ownerA);
    const [a1, a2, a3] = await Promise.all([1, 2, 3].map(() => agentIn(s.namespace)));
    const c1 = await submit(s, a1!);
    await decide(s.client, c1, "approve");
    const start = await feed(s.apiKey);
    expect(start.body.claims).toHaveLength(1);
    const cursor = start.body.cursor as string;

    // Nothing changed: empty page, same cursor.
    const idle = await feed(s.apiKey, { updated_since: cursor });
    expect(idle.status).toBe(200);
    expect(idle.body.claims).toEqual([]);
    expect(idle.body.pagination.total).toBe(0);
    expect(idle.body.cursor).toBe(cursor);

    const c2 = await submit(s, a2!);
    await submit(s, a3!); // pending: not part of the feed
    await decide(s.client, c2, "approve");
    const revoked = await decide(s.client, c1, "revoke");

    const delta = await feed(s.apiKey, { updated_since: cursor });
    expect(delta.status).toBe(200);
    expect(delta.body.claims).toHaveLength(2);
    expect(delta.body.claims[0]).toMatchObject({ claim_id: c2, status: "approved" });
    expect(delta.body.claims[1]).toEqual({
      claim_id: c1,
      status: "revoked",
      revoked_at: revoked.body.revoked_at,
    });
    const tombstone = delta.body.claims[1]!;
    expect("revoked_at" in tombstone && tombstone.revoked_at).toMatch(ISO_MS);
    expect(delta.body.pagination).toEqual({ limit: 50, offset: 0, total: 2, has_more: false });
    expect(delta.body.cursor).not.toBe(cursor);

    // Following the new cursor: caught up.
    const after = await feed(s.apiKey, { updated_since: delta.body.cursor });
    expect(after.body.claims).toEqual([]);
    // The full feed no longer lists the revoked claim.
    const full = await feed(s.apiKey);
    expect(full.body.claims.map((c: { claim_id: string }) => c.claim_id)).toEqual([c2]);
  });

  test("an ISO timestamp works as updated_since", async () => {
    const s = await freshService(ownerA);
    const a1 = await agentIn(s.namespace);
    const a2 = await agentIn(s.namespace);
    const old = await submit(s, a1);
    await decide(s.client, old, "approve");
    clock.advance(5000);
    const since = new Date(clock.now()).toISOString();
    clock.advance(5000);
    const fresh = await submit(s, a2);
    await decide(s.client, fresh, "approve");

    const res = await feed(s.apiKey, { updated_since: since });
    expect(res.status).toBe(200);
    expect(res.body.claims.map((c: { claim_id: string }) => c.claim_id)).toEqual([fresh]);
    expect(res.body.cursor).toMatch(/^cur_\d+$/);
    const all = await feed(s.apiKey, { updated_since: "2000-01-01T00:00:00.000Z" });
    expect(all.body.claims.map((c: { claim_id: string }) => c.claim_id)).toEqual([old, fresh]);
  });

  test("a bad updated_since → 400 VALIDATION_ERROR", async () => {
    const s = await freshService(ownerA);
    for (const bad of ["yesterday", "cur_abc", "cur_", "not-a-date-at-all"]) {
      expectValidation(await feed(s.apiKey, { updated_since: bad }), "updated_since");
    }
  });

  test("limit up to 2000 is allowed; 0 and 2001 → 400", async () => {
    const s = await freshService(ownerA);
    const ok = await feed(s.apiKey, { limit: "2000" });
    expect(ok.status).toBe(200);
    expect(ok.body.pagination).toEqual({ limit: 2000, offset: 0, total: 0, has_more: false });
    // (details name "property" instead of "limit" here: pinned in badInput.test.ts)
    expectValidation(await feed(s.apiKey, { limit: "2001" }));
    expectValidation(await feed(s.apiKey, { limit: "0" }));
  });

  test("pagination over the feed: limit, offset, total, has_more", async () => {
    const s = await freshService(ownerA);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await submit(s, await agentIn(s.namespace));
      await decide(s.client, id, "approve");
      ids.push(id);
    }
    const p1 = await feed(s.apiKey, { limit: "2" });
    expect(p1.body.claims.map((c: { claim_id: string }) => c.claim_id)).toEqual(ids.slice(0, 2));
    expect(p1.body.pagination).toEqual({ limit: 2, offset: 0, total: 3, has_more: true });
    const p2 = await feed(s.apiKey, { limit: "2", offset: "2" });
    expect(p2.body.claims.map((c: { claim_id: string }) => c.claim_id)).toEqual([ids[2]!]);
    expect(p2.body.pagination).toEqual({ limit: 2, offset: 2, total: 3, has_more: false });
  });

  test("ETag / If-None-Match → 304 with an empty body; any change gives a new ETag and a 200", async () => {
    const s = await freshService(ownerA);
    const a1 = await agentIn(s.namespace);
    const c1 = await submit(s, a1);
    await decide(s.client, c1, "approve");

    const first = await feed(s.apiKey);
    const etag = first.headers.get("etag");
    expect(etag).toBeTruthy();
    const raw = await fetch(`${t.url}/v1/namespaces/claims`, {
      headers: { authorization: `Bearer ${s.apiKey}`, "if-none-match": etag! },
    });
    expect(raw.status).toBe(304);
    expect(await raw.text()).toBe("");
    // A different ETag does not match.
    expect((await feed(s.apiKey, {}, { "if-none-match": 'W/"nope"' })).status).toBe(200);

    // A new approved claim changes the feed.
    const c2 = await submit(s, await agentIn(s.namespace));
    await decide(s.client, c2, "approve");
    const changed = await feed(s.apiKey, {}, { "if-none-match": etag! });
    expect(changed.status).toBe(200);
    expect(changed.body.claims).toHaveLength(2);
    const etag2 = changed.headers.get("etag");
    expect(etag2).toBeTruthy();
    expect(etag2).not.toBe(etag);
    expect((await feed(s.apiKey, {}, { "if-none-match": etag2! })).status).toBe(304);

    // So does a revocation.
    await decide(s.client, c1, "revoke");
    const revoked = await feed(s.apiKey, {}, { "if-none-match": etag2! });
    expect(revoked.status).toBe(200);
    expect(revoked.body.claims.map((c: { claim_id: string }) => c.claim_id)).toEqual([c2]);
    expect(revoked.headers.get("etag")).not.toBe(etag2);
  });

  test("service= other than the key's slug → 403 SERVICE_MISMATCH; the own slug (any case) is fine", async () => {
    const s = await freshService(ownerA);
    const other = await freshService(ownerB);
    expectError(await feed(s.apiKey, { service: other.slug }), 403, "SERVICE_MISMATCH");
    expect((await feed(s.apiKey, { service: s.slug.toUpperCase() })).status).toBe(200);
  });

  test("no key, a wrong key or an owner session → 401", async () => {
    const s = await freshService(ownerA);
    expectError(
      await new ApiClient(t.url, null).get<ApiErrorBody>("/v1/namespaces/claims"),
      401,
      "UNAUTHORIZED",
    );
    expectError(await feed(wrongKey(s.apiKey)), 401, "UNAUTHORIZED");
    expectError(await s.client.get<ApiErrorBody>("/v1/namespaces/claims"), 401, "UNAUTHORIZED");
  });

  // Change numbers come from a sequence that never goes back, even when claims are deleted.
  test("a feed cursor never misses a change after another namespace's account is deleted", async () => {
    const s = await freshService(ownerA);
    const c1 = await submit(s, await agentIn(s.namespace));
    await decide(s.client, c1, "approve");
    const x = await signUp(t);
    const cx = await submit(s, await agentIn(x.namespace));
    await decide(x.client, cx, "approve"); // the newest change on the server
    const cursor = (await feed(s.apiKey)).body.cursor;
    expect((await x.client.delete<Deleted>("/v1/auth/account")).status).toBe(200);

    await decide(s.client, c1, "revoke");
    const delta = await feed(s.apiKey, { updated_since: cursor });
    expect(delta.body.claims).toContainEqual(
      expect.objectContaining({ claim_id: c1, status: "revoked" }),
    );
  });

  // The feed's version (ETag) never comes back to an old value after deletions.
  test("an old ETag never matches after the feed changed (account deletion + revoke)", async () => {
    const s = await freshService(ownerA);
    const c1 = await submit(s, await agentIn(s.namespace));
    await decide(s.client, c1, "approve");
    const x = await signUp(t);
    const cx = await submit(s, await agentIn(x.namespace));
    await decide(x.client, cx, "approve");
    const before = await feed(s.apiKey);
    expect(before.body.claims).toHaveLength(2);
    const etag = before.headers.get("etag")!;
    expect((await x.client.delete<Deleted>("/v1/auth/account")).status).toBe(200);
    await decide(s.client, c1, "revoke"); // takes change_seq N-1 (cx's row held N)
    await submit(s, await agentIn(s.namespace)); // a pending claim takes N again

    const after = await feed(s.apiKey, {}, { "if-none-match": etag });
    expect(after.status).toBe(200);
    expect(after.body.claims).toEqual([]);
  });

  // Claims that vanish with their account are announced to followers as tombstones.
  test("approved claims removed by an account deletion appear in the incremental feed", async () => {
    const s = await freshService(ownerA);
    const x = await signUp(t);
    const cx = await submit(s, await agentIn(x.namespace));
    await decide(x.client, cx, "approve");
    const cursor = (await feed(s.apiKey)).body.cursor;
    expect((await x.client.delete<Deleted>("/v1/auth/account")).status).toBe(200);
    const delta = await feed(s.apiKey, { updated_since: cursor });
    expect(delta.body.claims.map((c: { claim_id: string }) => c.claim_id)).toContain(cx);
  });
});

describe("GET /v1/verify with a service API key", () => {
  test("pending, approved, revoked and none, with their reasons", async () => {
    const s = await freshService(ownerA);
    const a = await agentIn(s.namespace);
    const q = { namespace: s.namespace, public_key: a.publicKey };

    expect((await verify(s.apiKey, q)).body).toEqual({
      authorized: false,
      status: "none",
      reason: "No approved authorization found",
    });
    const id = await submit(s, a);
    const pending = await verify(s.apiKey, q);
    expect(pending.status).toBe(200);
    expect(pending.body).toEqual({
      authorized: false,
      status: "pending",
      reason: "Authorization pending approval",
    });
    const approved = await decide(s.client, id, "approve");
    expect((await verify(s.apiKey, q)).body).toEqual({
      authorized: true,
      claim_id: id,
      approved_at: approved.body.approved_at,
      status: "approved",
    });
    await decide(s.client, id, "revoke");
    expect((await verify(s.apiKey, q)).body).toEqual({
      authorized: false,
      status: "revoked",
      reason: "Authorization revoked",
    });
    // An upper-cased namespace is the same namespace.
    expect((await verify(s.apiKey, { ...q, namespace: s.namespace.toUpperCase() })).body).toEqual(
      expect.objectContaining({ status: "revoked" }),
    );
  });

  test("rejected → status rejected with its reason", async () => {
    const s = await freshService(ownerA);
    const a = await agentIn(s.namespace);
    await decide(s.client, await submit(s, a), "reject");
    expect(
      (await verify(s.apiKey, { namespace: s.namespace, public_key: a.publicKey })).body,
    ).toEqual({ authorized: false, status: "rejected", reason: "Authorization rejected" });
  });

  test("public_key is accepted as ed25519:…, did:key:z6Mk… and bare z6Mk…", async () => {
    const s = await freshService(ownerA);
    const a = await agentIn(s.namespace);
    const id = await submit(s, a);
    await decide(s.client, id, "approve");
    const raw = parseAgentKey(a.publicKey)!;
    const forms = [a.publicKey, toDidKey(raw), toMultibaseKey(raw)];
    expect(forms[1]).toMatch(/^did:key:z6Mk/);
    expect(forms[2]).toMatch(/^z6Mk/);
    for (const public_key of forms) {
      const res = await verify(s.apiKey, { namespace: s.namespace, public_key });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ authorized: true, claim_id: id });
    }
  });

  test("an invalid or missing public_key → 400 VALIDATION_ERROR", async () => {
    const s = await freshService(ownerA);
    for (const public_key of ["ed25519:abc", "z6Mkxyz", "did:key:nope", "hello"]) {
      expectValidation(
        await verify(s.apiKey, { namespace: s.namespace, public_key }),
        "public_key",
      );
    }
    expectValidation(await verify(s.apiKey, { namespace: s.namespace }), "public_key");
  });

  test("service= other than the key's slug → 403 SERVICE_MISMATCH; its own slug is fine", async () => {
    const s = await freshService(ownerA);
    const other = await freshService(ownerB);
    const a = await agentIn(s.namespace);
    const q = { namespace: s.namespace, public_key: a.publicKey };
    expectError(await verify(s.apiKey, { ...q, service: other.slug }), 403, "SERVICE_MISMATCH");
    const own = await verify(s.apiKey, { ...q, service: s.slug });
    expect(own.status).toBe(200);
    expect(own.body.status).toBe("none");
  });

  test("a revoked API key → 401 at once; no credentials → 401", async () => {
    const s = await freshService(ownerA);
    const a = await agentIn(s.namespace);
    const q = { namespace: s.namespace, public_key: a.publicKey };
    const minted = await s.client.post<ApiKeyCreated>(`/v1/services/${s.serviceId}/keys`, {
      name: "doomed",
    });
    expect(minted.status).toBe(201);
    expect((await verify(minted.body.key, q)).status).toBe(200);
    const revoked = await s.client.delete<ApiKey>(
      `/v1/services/${s.serviceId}/keys/${minted.body.id}`,
    );
    expect(revoked.status).toBe(200);
    expectError(await verify(minted.body.key, q), 401, "UNAUTHORIZED");
    expect((await verify(s.apiKey, q)).status).toBe(200);
    expectError(await verify(null, q), 401, "UNAUTHORIZED");
  });

  test("expired (pending past its TTL) → status expired", async () => {
    const s = await freshService(ownerA);
    const a = await agentIn(s.namespace);
    const id = await submit(s, a);
    clock.advance(t.server.ctx.config.pendingClaimTtl + 60_000);
    await expirePendingClaims(t.server.ctx);
    expect((await s.client.get<ClaimWithHistory>(`/v1/claims/${id}`)).body.status).toBe("expired");
    expect(
      (await verify(s.apiKey, { namespace: s.namespace, public_key: a.publicKey })).body,
    ).toEqual({ authorized: false, status: "expired", reason: "Authorization request expired" });
  });
});

describe("GET /v1/namespaces/{namespace}", () => {
  const INFO_KEYS = ["active", "active_claims", "created_at", "did", "namespace"];

  test("with an API key or an owner session: public facts only", async () => {
    const s = await ownerWithKey(t);
    const viewer = await freshService(ownerB);
    const created = (await s.client.get<UserBody>("/v1/auth/me")).body.user.created_at;

    const before = await keyClient(viewer.apiKey).get<NamespaceInfo>(
      `/v1/namespaces/${s.namespace}`,
    );
    expect(before.status).toBe(200);
    expect(Object.keys(before.body).sort()).toEqual(INFO_KEYS);
    expect(before.body).toEqual({
      did: `did:sigilum:${s.namespace}`,
      namespace: s.namespace,
      created_at: created,
      active: true,
      active_claims: 0,
    });
    expect(JSON.stringify(before.body)).not.toContain("@example.com");

    const id = await submit(s, await agentIn(s.namespace));
    await submit(s, await agentIn(s.namespace)); // pending: not active
    await decide(s.client, id, "approve");
    const bySession = await viewer.client.get<NamespaceInfo>(`/v1/namespaces/${s.namespace}`);
    expect(bySession.status).toBe(200);
    expect(Object.keys(bySession.body).sort()).toEqual(INFO_KEYS);
    expect(bySession.body.active_claims).toBe(1);
    expect(
      (await s.client.get<NamespaceInfo>(`/v1/namespaces/${s.namespace}`)).body.active_claims,
    ).toBe(1);

    await decide(s.client, id, "revoke");
    expect(
      (await keyClient(s.apiKey).get<NamespaceInfo>(`/v1/namespaces/${s.namespace}`)).body
        .active_claims,
    ).toBe(0);
  });

  test("an unknown namespace → 404 NAMESPACE_NOT_FOUND; no credentials → 401", async () => {
    const s = await freshService(ownerA);
    expectError(
      await keyClient(s.apiKey).get<ApiErrorBody>("/v1/namespaces/no-such-namespace-here"),
      404,
      "NAMESPACE_NOT_FOUND",
    );
    expectError(
      await s.client.get<ApiErrorBody>("/v1/namespaces/no-such-namespace-here"),
      404,
      "NAMESPACE_NOT_FOUND",
    );
    const anon = new ApiClient(t.url, null);
    expectError(await anon.get<ApiErrorBody>(`/v1/namespaces/${s.namespace}`), 401, "UNAUTHORIZED");
    expectError(
      await anon.get<ApiErrorBody>("/v1/namespaces/no-such-namespace-here"),
      401,
      "UNAUTHORIZED",
    );
    expectError(
      await keyClient(wrongKey(s.apiKey)).get<ApiErrorBody>(`/v1/namespaces/${s.namespace}`),
      401,
      "UNAUTHORIZED",
    );
  });
});
