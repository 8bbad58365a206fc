import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseAgentKey, toDidKey, toMultibaseKey } from "../../src/signing/index.ts";
import { type Agent, newAgent, submitClaim } from "../helpers/agent.ts";
import { expectError, expectValidation } from "../helpers/assertions.ts";
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
  ApiKeyCreated,
  Claim,
  ClaimList,
  ClaimSubmitted,
  ClaimWithHistory,
  Deleted,
  Feed,
  NamespaceInfo,
  Policy,
  Service,
  VerifyAnswer,
} from "../helpers/types.ts";

// quality.md §4 cross-tenant isolation on the claims routes, the owner list's filters and
// pagination, and what service and account deletion do to claims (http-api.md §3, §4).

const clock = new ManualClock();
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ clock });
});
afterAll(() => t.close());

type Svc = Pick<ServiceSetup, "apiKey" | "slug">;

function agentIn(namespace: string): Promise<Agent> {
  return newAgent(namespace, clock.now());
}

/** Submits at the server's manual time, one second after the previous one (distinct created_at). */
async function submit(s: Svc, agent: Agent, extra: Record<string, unknown> = {}): Promise<string> {
  clock.advance(1000);
  const res = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug, extra, {
    created: Math.floor(clock.now() / 1000),
  });
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.claim_id;
}

function keyClient(apiKey: string): ApiClient {
  const c = new ApiClient(t.url, null);
  c.bearer = apiKey;
  return c;
}

function verify(apiKey: string, namespace: string, publicKey: string) {
  return keyClient(apiKey).get<VerifyAnswer>(
    `/v1/verify?${new URLSearchParams({ namespace, public_key: publicKey })}`,
  );
}

async function rows(sql: string, args: (string | number | null)[] = []) {
  const rs = await t.server.ctx.database.client.execute({ sql, args });
  return rs.rows.map((r) => ({ ...r }));
}

/** Every claims-related row, for before/after comparisons. */
async function snapshot(): Promise<string> {
  return JSON.stringify({
    claims: await rows("SELECT * FROM claims ORDER BY id"),
    claim_transitions: await rows("SELECT * FROM claim_transitions ORDER BY id"),
    events: await rows("SELECT * FROM events ORDER BY id"),
    namespace_policies: await rows("SELECT * FROM namespace_policies ORDER BY owner_id"),
    namespace_policy_services: await rows(
      "SELECT * FROM namespace_policy_services ORDER BY owner_id, service_id",
    ),
  });
}

const ids = (res: JsonResponse<ClaimList>) => res.body.claims.map((c) => c.claim_id);

describe("owner B never sees or acts on owner A's claims", () => {
  let a: ServiceSetup;
  let b: ServiceSetup;
  let agentA: Agent;
  let pendingA: string;
  let approvedA: string;
  /** A claim of namespace B on A's service: B's to decide, not A's. */
  let crossClaim: string;

  beforeAll(async () => {
    a = await ownerWithKey(t);
    b = await ownerWithKey(t);
    agentA = await agentIn(a.namespace);
    approvedA = await submit(a, agentA);
    expect((await a.client.post<Claim>(`/v1/claims/${approvedA}/approve`)).status).toBe(200);
    pendingA = await submit(a, await agentIn(a.namespace));
    await a.client.put<Policy>(`/v1/namespaces/${a.namespace}/policy`, {
      auto_approve_services: [a.slug],
    });
    crossClaim = await submit(a, await agentIn(b.namespace));
  });

  test("B: A's list, claims and policy are 404 NOT_FOUND and nothing changes", async () => {
    const before = await snapshot();
    expectError(
      await b.client.get<ApiErrorBody>(`/v1/namespaces/${a.namespace}/claims`),
      404,
      "NOT_FOUND",
    );
    expectError(
      await b.client.get<ApiErrorBody>(`/v1/namespaces/${a.namespace.toUpperCase()}/claims`),
      404,
      "NOT_FOUND",
    );
    for (const id of [pendingA, approvedA]) {
      expectError(await b.client.get<ApiErrorBody>(`/v1/claims/${id}`), 404, "NOT_FOUND");
      for (const action of ["approve", "reject", "revoke"]) {
        expectError(
          await b.client.post<ApiErrorBody>(`/v1/claims/${id}/${action}`),
          404,
          "NOT_FOUND",
        );
        expectError(
          await b.client.post<ApiErrorBody>(`/v1/claims/${id}/${action}`, { reason: "mine now" }),
          404,
          "NOT_FOUND",
        );
      }
    }
    expectError(
      await b.client.get<ApiErrorBody>(`/v1/namespaces/${a.namespace}/policy`),
      404,
      "NOT_FOUND",
    );
    expectError(
      await b.client.put<ApiErrorBody>(`/v1/namespaces/${a.namespace}/policy`, {
        auto_approve_services: [],
      }),
      404,
      "NOT_FOUND",
    );
    expect(await snapshot()).toBe(before);
    expect((await a.client.get<ClaimWithHistory>(`/v1/claims/${pendingA}`)).body.status).toBe(
      "pending",
    );
    expect((await a.client.get<ClaimWithHistory>(`/v1/claims/${approvedA}`)).body.status).toBe(
      "approved",
    );
    expect(
      (await a.client.get<Policy>(`/v1/namespaces/${a.namespace}/policy`)).body
        .auto_approve_services,
    ).toEqual([{ id: a.serviceId, slug: a.slug }]);
  });

  test("B's own list shows only B's namespace, and the service owner A cannot act on B's namespace claim", async () => {
    const listB = await b.client.get<ClaimList>(`/v1/namespaces/${b.namespace}/claims`);
    expect(listB.status).toBe(200);
    expect(ids(listB)).toEqual([crossClaim]);
    const listA = await a.client.get<ClaimList>(`/v1/namespaces/${a.namespace}/claims`);
    expect(ids(listA)).not.toContain(crossClaim);

    const before = await snapshot();
    expectError(await a.client.get<ApiErrorBody>(`/v1/claims/${crossClaim}`), 404, "NOT_FOUND");
    expectError(
      await a.client.post<ApiErrorBody>(`/v1/claims/${crossClaim}/approve`),
      404,
      "NOT_FOUND",
    );
    expect(await snapshot()).toBe(before);
    // A's auto-approve policy is about A's namespace only: B's claim stays pending.
    expect((await b.client.get<ClaimWithHistory>(`/v1/claims/${crossClaim}`)).body.status).toBe(
      "pending",
    );
  });

  test("B's API key answers for B's service only", async () => {
    expect((await verify(a.apiKey, a.namespace, agentA.publicKey)).body.authorized).toBe(true);
    const viaB = await verify(b.apiKey, a.namespace, agentA.publicKey);
    expect(viaB.status).toBe(200);
    expect(viaB.body).toEqual({
      authorized: false,
      status: "none",
      reason: "No approved authorization found",
    });
    const q = new URLSearchParams({
      namespace: a.namespace,
      public_key: agentA.publicKey,
      service: a.slug,
    });
    expectError(
      await keyClient(b.apiKey).get<ApiErrorBody>(`/v1/verify?${q}`),
      403,
      "SERVICE_MISMATCH",
    );
    const feedB = await keyClient(b.apiKey).get<Feed>("/v1/namespaces/claims");
    expect(feedB.body.claims).toEqual([]);
  });
});

describe("the owner list: filters, pagination, order", () => {
  test("status and service filters, limit/offset/total/has_more, newest first", async () => {
    const a = await ownerWithKey(t);
    const second = await a.client.post<Service>("/v1/services", {
      slug: uniqueName("svc2"),
      name: "Two",
    });
    const key2 = await a.client.post<ApiKeyCreated>(`/v1/services/${second.body.id}/keys`);
    const s2: Svc = { apiKey: key2.body.key, slug: second.body.slug };

    const created: string[] = []; // in submission order
    for (let i = 0; i < 4; i++) created.push(await submit(a, await agentIn(a.namespace)));
    for (let i = 0; i < 2; i++) created.push(await submit(s2, await agentIn(a.namespace)));
    const [c0, c1, c2, , c4] = created as [string, string, string, string, string, string];
    for (const id of [c0, c2, c4]) {
      expect((await a.client.post<Claim>(`/v1/claims/${id}/approve`)).status).toBe(200);
    }
    expect((await a.client.post<Claim>(`/v1/claims/${c1}/reject`)).status).toBe(200);
    const newestFirst = [...created].reverse();
    const list = (q = "") => a.client.get<ClaimList>(`/v1/namespaces/${a.namespace}/claims${q}`);

    const all = await list();
    expect(all.status).toBe(200);
    expect(ids(all)).toEqual(newestFirst);
    expect(all.body.pagination).toEqual({ limit: 50, offset: 0, total: 6, has_more: false });
    const times = all.body.claims.map((c: { created_at: string }) => Date.parse(c.created_at));
    expect(times).toEqual([...times].sort((x, y) => y - x));

    const approved = await list("?status=approved");
    expect(ids(approved)).toEqual([c4, c2, c0]);
    expect(approved.body.claims.every((c: { status: string }) => c.status === "approved")).toBe(
      true,
    );
    expect(approved.body.pagination.total).toBe(3);
    expect(ids(await list("?status=rejected"))).toEqual([c1]);
    expect(ids(await list("?status=revoked"))).toEqual([]);

    const bySvc2 = await list(`?service=${s2.slug}`);
    expect(ids(bySvc2)).toEqual(newestFirst.slice(0, 2));
    expect(bySvc2.body.claims.every((c: { service: string }) => c.service === s2.slug)).toBe(true);
    expect(ids(await list(`?service=${s2.slug.toUpperCase()}`))).toEqual(ids(bySvc2));
    expect(ids(await list(`?service=${a.slug}&status=pending`))).toEqual([created[3]!]);
    expect(ids(await list("?service=no-such-service"))).toEqual([]);

    const p1 = await list("?limit=2");
    expect(ids(p1)).toEqual(newestFirst.slice(0, 2));
    expect(p1.body.pagination).toEqual({ limit: 2, offset: 0, total: 6, has_more: true });
    const p3 = await list("?limit=2&offset=4");
    expect(ids(p3)).toEqual(newestFirst.slice(4, 6));
    expect(p3.body.pagination).toEqual({ limit: 2, offset: 4, total: 6, has_more: false });
    const mid = await list("?limit=4&offset=3");
    expect(ids(mid)).toEqual(newestFirst.slice(3));
    expect(mid.body.pagination).toEqual({ limit: 4, offset: 3, total: 6, has_more: false });
    const past = await list("?offset=6");
    expect(ids(past)).toEqual([]);
    expect(past.body.pagination).toEqual({ limit: 50, offset: 6, total: 6, has_more: false });
    const filteredPage = await list("?status=approved&limit=1&offset=1");
    expect(ids(filteredPage)).toEqual([c2]);
    expect(filteredPage.body.pagination).toEqual({ limit: 1, offset: 1, total: 3, has_more: true });

    expectValidation(await list("?status=bogus"), "status");
  });
});

describe("deleted service: its claims are orphaned and never verify again", () => {
  test("claim kept with service_id null; a new owner of the same slug never sees it authorized", async () => {
    const a = await ownerWithKey(t);
    const agent = await agentIn(a.namespace);
    const id = await submit(a, agent);
    expect((await a.client.post<Claim>(`/v1/claims/${id}/approve`)).status).toBe(200);
    expect((await verify(a.apiKey, a.namespace, agent.publicKey)).body.authorized).toBe(true);
    expect(
      (await a.client.get<NamespaceInfo>(`/v1/namespaces/${a.namespace}`)).body.active_claims,
    ).toBe(1);

    const del = await a.client.delete<Deleted>(`/v1/services/${a.serviceId}`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ id: a.serviceId, deleted: true });
    expectError(await verify(a.apiKey, a.namespace, agent.publicKey), 401, "UNAUTHORIZED");

    const list = await a.client.get<ClaimList>(`/v1/namespaces/${a.namespace}/claims`);
    expect(list.body.claims).toHaveLength(1);
    expect(list.body.claims[0]).toMatchObject({
      claim_id: id,
      service: a.slug,
      service_id: null,
      status: "approved",
    });
    const one = await a.client.get<ClaimWithHistory>(`/v1/claims/${id}`);
    expect(one.status).toBe(200);
    expect(one.body.service_id).toBeNull();
    expect(one.body.history).toHaveLength(2);
    expect(
      (await a.client.get<NamespaceInfo>(`/v1/namespaces/${a.namespace}`)).body.active_claims,
    ).toBe(0);

    // Another owner registers the very same slug and mints a key.
    const c = await signUp(t);
    const svc = await c.client.post<Service>("/v1/services", { slug: a.slug, name: "Same slug" });
    expect(svc.status).toBe(201);
    expect(svc.body.slug).toBe(a.slug);
    const key = await c.client.post<ApiKeyCreated>(`/v1/services/${svc.body.id}/keys`);
    expect(key.status).toBe(201);
    const cKey: string = key.body.key;

    const raw = parseAgentKey(agent.publicKey)!;
    for (const pk of [agent.publicKey, toDidKey(raw), toMultibaseKey(raw)]) {
      expect((await verify(cKey, a.namespace, pk)).body).toEqual({
        authorized: false,
        status: "none",
        reason: "No approved authorization found",
      });
    }
    const feed = await keyClient(cKey).get<Feed>("/v1/namespaces/claims");
    expect(feed.status).toBe(200);
    expect(feed.body.claims).toEqual([]);
    expect(feed.body.pagination.total).toBe(0);
    const delta = await keyClient(cKey).get<Feed>("/v1/namespaces/claims?updated_since=cur_0");
    expect(delta.body.claims).toEqual([]);

    // The agent asking the new service gets a fresh pending claim, not the orphan.
    const fresh = await submit({ apiKey: cKey, slug: a.slug }, agent);
    expect(fresh).not.toBe(id);
    expect((await a.client.get<ClaimWithHistory>(`/v1/claims/${fresh}`)).body).toMatchObject({
      status: "pending",
      service_id: svc.body.id,
    });
    expect((await verify(cKey, a.namespace, agent.publicKey)).body.status).toBe("pending");
    // The orphan is untouched.
    expect((await a.client.get<ClaimWithHistory>(`/v1/claims/${id}`)).body).toMatchObject({
      status: "approved",
      service_id: null,
    });
  });
});

describe("account deletion", () => {
  test("removes the owner's claims with their history; claims of other namespaces on its services are orphaned", async () => {
    const d = await ownerWithKey(t);
    const e = await ownerWithKey(t);
    const own1 = await submit(d, await agentIn(d.namespace));
    const own2 = await submit(e, await agentIn(d.namespace)); // d's namespace, e's service
    expect((await d.client.post<Claim>(`/v1/claims/${own1}/approve`)).status).toBe(200);
    const foreign = await submit(d, await agentIn(e.namespace)); // e's namespace, d's service
    expect((await e.client.post<Claim>(`/v1/claims/${foreign}/approve`)).status).toBe(200);

    const count = async (sql: string, args: string[]) => Number((await rows(sql, args))[0]!.n);
    expect(await count("SELECT count(*) AS n FROM claims WHERE namespace = ?", [d.namespace])).toBe(
      2,
    );

    const del = await d.client.delete<Deleted>("/v1/auth/account");
    expect(del.status).toBe(200);

    expect(await count("SELECT count(*) AS n FROM claims WHERE namespace = ?", [d.namespace])).toBe(
      0,
    );
    expect(
      await count("SELECT count(*) AS n FROM claim_transitions WHERE claim_id IN (?, ?)", [
        own1,
        own2,
      ]),
    ).toBe(0);
    expect((await e.client.get<ApiErrorBody>(`/v1/claims/${own2}`)).status).toBe(404);

    const orphan = await e.client.get<ClaimWithHistory>(`/v1/claims/${foreign}`);
    expect(orphan.status).toBe(200);
    expect(orphan.body).toMatchObject({ status: "approved", service_id: null });

    // The namespace is free again; its new owner starts with no claims.
    const again = await signUp(t, d.namespace);
    const list = await again.client.get<ClaimList>(`/v1/namespaces/${d.namespace}/claims`);
    expect(list.status).toBe(200);
    expect(list.body.claims).toEqual([]);
    expect(list.body.pagination.total).toBe(0);
  });
});
