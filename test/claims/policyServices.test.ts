import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { parseAgentKey, toMultibaseKey } from "../../src/signing/index.ts";
import { type Agent, newAgent, submitClaim } from "../helpers/agent.ts";
import { expectValidation } from "../helpers/assertions.ts";
import { queryRows } from "../helpers/rows.ts";
import {
  ApiClient,
  type JsonResponse,
  signUp,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  ApiKeyCreated,
  ClaimSubmitted,
  ClaimWithHistory,
  Deleted,
  Policy,
  Service,
  VerifyAnswer,
} from "../helpers/types.ts";

// http-api.md §5: the namespace policy holds service *ids*. Trust given to one service never
// passes to whoever registers its slug later; blocked services' claims are rejected at once.

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** An owner (the "victim") whose namespace the agents ask to join. */
async function namespaceOwner() {
  const owner = await signUp(t);
  return { ...owner, policyPath: `/v1/namespaces/${owner.namespace}/policy` };
}

/** A service of its own owner with one API key, registered under `slug`. */
async function serviceWithSlug(slug = uniqueName("svc"), client?: ApiClient) {
  const owner = client ? { client, namespace: "" } : await signUp(t);
  const svc = await owner.client.post<Service>("/v1/services", { slug, name: "Service" });
  expect(svc.status).toBe(201);
  const key = await owner.client.post<ApiKeyCreated>(`/v1/services/${svc.body.id}/keys`);
  expect(key.status).toBe(201);
  return {
    client: owner.client,
    namespace: owner.namespace,
    serviceId: svc.body.id as string,
    slug,
    apiKey: key.body.key as string,
  } satisfies ServiceSetup;
}

function claimFor(service: ServiceSetup, agent: Agent) {
  return submitClaim<ClaimSubmitted>(t, agent, service.apiKey, service.slug);
}

function verify(service: ServiceSetup, namespace: string, agent: Agent) {
  const c = new ApiClient(t.url, null);
  c.bearer = service.apiKey;
  return c.get<VerifyAnswer>(
    `/v1/verify?${new URLSearchParams({ namespace, public_key: agent.publicKey, service: service.slug })}`,
  );
}

async function didKeys(namespace: string): Promise<string[]> {
  const res = await fetch(`${t.url}/.well-known/did/did:sigilum:${namespace}`);
  expect(res.status).toBe(200);
  const doc = await res.json();
  return doc.verificationMethod.map((m: { publicKeyMultibase: string }) => m.publicKeyMultibase);
}

function agentMultibase(agent: Agent): string {
  return toMultibaseKey(parseAgentKey(agent.publicKey)!);
}

async function policyRows(serviceId: string) {
  return queryRows(t, "SELECT * FROM namespace_policy_services WHERE service_id = ?", [serviceId]);
}

async function eventTypes(claimId: string) {
  const rows = await queryRows(
    t,
    "SELECT type, payload FROM events WHERE claim_id = ? ORDER BY created_at, rowid",
    [claimId],
  );
  return rows.map((r) => ({ type: String(r.type), data: JSON.parse(String(r.payload)).data }));
}

function history(res: JsonResponse<ClaimWithHistory>) {
  return res.body.history.map((h) => [h.from, h.to, h.actor]);
}

describe("auto-approve takeover through a re-registered slug", () => {
  test("a trusted partner deletes its service; an attacker registers the slug; its agent key is not approved nor published", async () => {
    const victim = await namespaceOwner();
    const slug = uniqueName("partner");
    const partner = await serviceWithSlug(slug);
    const put = await victim.client.put<Policy>(victim.policyPath, {
      auto_approve_services: [slug],
    });
    expect(put.status).toBe(200);
    expect(put.body.auto_approve_services).toEqual([{ id: partner.serviceId, slug }]);

    // The partner's own agents are approved at once: the trust works while it is deserved.
    const friendly = await newAgent(victim.namespace);
    expect((await claimFor(partner, friendly)).body.status).toBe("approved");

    expect((await partner.client.delete<Deleted>(`/v1/services/${partner.serviceId}`)).status).toBe(
      200,
    );
    expect((await victim.client.get<Policy>(victim.policyPath)).body.auto_approve_services).toEqual(
      [],
    );
    expect(await policyRows(partner.serviceId)).toEqual([]);

    const attacker = await serviceWithSlug(slug);
    expect(attacker.serviceId).not.toBe(partner.serviceId);
    const intruder = await newAgent(victim.namespace);
    const res = await claimFor(attacker, intruder);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("pending");
    expect((await verify(attacker, victim.namespace, intruder)).body).toMatchObject({
      authorized: false,
      status: "pending",
    });
    const published = await didKeys(victim.namespace);
    expect(published).not.toContain(agentMultibase(intruder));
    expect((await victim.client.get<Policy>(victim.policyPath)).body.auto_approve_services).toEqual(
      [],
    );
  });

  test("listing a slug nobody registered yet is refused, so registering it later earns nothing", async () => {
    const victim = await namespaceOwner();
    const slug = uniqueName("future");
    const res = await victim.client.put<ApiErrorBody>(victim.policyPath, {
      auto_approve_services: [slug],
    });
    expectValidation(res, "auto_approve_services.0");
    expect(res.body.error).toContain(slug);
    expect((await victim.client.get<Policy>(victim.policyPath)).body.updated_at).toBeNull();

    const attacker = await serviceWithSlug(slug);
    const intruder = await newAgent(victim.namespace);
    expect((await claimFor(attacker, intruder)).body.status).toBe("pending");
    expect(await didKeys(victim.namespace)).not.toContain(agentMultibase(intruder));
  });

  test("deleting and re-registering the same slug (same owner) is a new service: not trusted", async () => {
    const victim = await namespaceOwner();
    const first = await serviceWithSlug();
    await victim.client.put<Policy>(victim.policyPath, { auto_approve_services: [first.slug] });
    await first.client.delete<Deleted>(`/v1/services/${first.serviceId}`);
    const again = await serviceWithSlug(first.slug, first.client);
    const agent = await newAgent(victim.namespace);
    expect((await claimFor(again, agent)).body.status).toBe("pending");
  });

  test("without foreign-key enforcement (remote libSQL) deletion still removes the service from every policy", async () => {
    const db = t.server.ctx.database.client;
    const victim = await namespaceOwner();
    const other = await namespaceOwner();
    const partner = await serviceWithSlug();
    const doomed = await serviceWithSlug();
    await victim.client.put<Policy>(victim.policyPath, { auto_approve_services: [partner.slug] });
    await other.client.put<Policy>(other.policyPath, {
      blocked_services: [partner.slug, doomed.slug],
    });
    await db.execute("PRAGMA foreign_keys=OFF");
    try {
      expect(
        (await partner.client.delete<Deleted>(`/v1/services/${partner.serviceId}`)).status,
      ).toBe(200);
      expect(await policyRows(partner.serviceId)).toEqual([]);
      // Account deletion takes the account's services out of other namespaces' policies too.
      expect((await doomed.client.delete<Deleted>("/v1/auth/account")).status).toBe(200);
      expect(await policyRows(doomed.serviceId)).toEqual([]);
    } finally {
      await db.execute("PRAGMA foreign_keys=ON");
    }
    expect((await victim.client.get<Policy>(victim.policyPath)).body.auto_approve_services).toEqual(
      [],
    );
    expect((await other.client.get<Policy>(other.policyPath)).body.blocked_services).toEqual([]);
  });
});

describe("blocked services", () => {
  test("a blocked service's claim is stored rejected (service_blocked) with one request.rejected", async () => {
    const owner = await ownerWithKey(t);
    const policyPath = `/v1/namespaces/${owner.namespace}/policy`;
    const blocked = await serviceWithSlug();
    const put = await owner.client.put<Policy>(policyPath, { blocked_services: [blocked.slug] });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      auto_approve_services: [],
      blocked_services: [{ id: blocked.serviceId, slug: blocked.slug }],
    });

    const agent = await newAgent(owner.namespace);
    const res = await claimFor(blocked, agent);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe("rejected");
    const claim = await owner.client.get<ClaimWithHistory>(`/v1/claims/${res.body.claim_id}`);
    expect(claim.body).toMatchObject({ status: "rejected", reason: "service_blocked" });
    expect(history(claim)).toEqual([[null, "rejected", "policy:blocked"]]);
    const events = await eventTypes(res.body.claim_id);
    expect(events.map((e) => e.type)).toEqual(["request.rejected"]);
    expect(events[0]!.data).toMatchObject({ status: "rejected", reason: "service_blocked" });
    expect((await verify(blocked, owner.namespace, agent)).body).toMatchObject({
      authorized: false,
      status: "rejected",
    });

    // Other services of the namespace are not affected.
    expect((await claimFor(owner, await newAgent(owner.namespace))).body.status).toBe("pending");

    // Moving it to the trusted list (the blocked list named empty at the same time) takes effect.
    const moved = await owner.client.put<Policy>(policyPath, {
      auto_approve_services: [blocked.slug],
      blocked_services: [],
    });
    expect(moved.status).toBe(200);
    expect((await claimFor(blocked, agent)).body.status).toBe("approved");
  });

  test("a list left out of the PUT stays as it is", async () => {
    const owner = await ownerWithKey(t);
    const policyPath = `/v1/namespaces/${owner.namespace}/policy`;
    const blocked = await serviceWithSlug();
    await owner.client.put<Policy>(policyPath, { blocked_services: [blocked.slug] });
    const res = await owner.client.put<ApiErrorBody>(policyPath, {
      auto_approve_services: [owner.slug],
    });
    expect(res.body).toMatchObject({
      auto_approve_services: [{ id: owner.serviceId, slug: owner.slug }],
      blocked_services: [{ id: blocked.serviceId, slug: blocked.slug }],
    });
  });
});
