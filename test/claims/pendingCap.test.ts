import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { queryRows } from "../helpers/rows.ts";
import { signUp, startTestServer, type TestServer, uniqueName } from "../helpers/server.ts";
import type { ServiceSetup } from "../helpers/setup.ts";
import type { ApiKeyCreated, ClaimSubmitted, Deleted, Policy, Service } from "../helpers/types.ts";

// http-api.md §5: the pending cap is per (namespace, service), so one service cannot fill another's
// queue; a namespace-wide brake stops the sum. Cap 2 per service, brake 4 per namespace.

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({
    env: {
      SIGILUM_MAX_PENDING_CLAIMS: "2",
      SIGILUM_MAX_PENDING_CLAIMS_PER_NAMESPACE: "4",
    },
  });
});
afterAll(() => t.close());

/** A service of its own owner, with one API key. */
async function service(): Promise<ServiceSetup> {
  const owner = await signUp(t);
  const slug = uniqueName("svc");
  const svc = await owner.client.post<Service>("/v1/services", { slug, name: "Service" });
  const key = await owner.client.post<ApiKeyCreated>(`/v1/services/${svc.body.id}/keys`);
  return {
    client: owner.client,
    namespace: owner.namespace,
    serviceId: svc.body.id,
    slug,
    apiKey: key.body.key,
  };
}

/** Submits `n` claims of fresh agents from `svc` into `namespace`; returns their statuses. */
async function fill(svc: ServiceSetup, namespace: string, n: number): Promise<string[]> {
  const statuses: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await submitClaim<ClaimSubmitted>(
      t,
      await newAgent(namespace),
      svc.apiKey,
      svc.slug,
    );
    expect(res.status).toBe(201);
    statuses.push(res.body.status);
  }
  return statuses;
}

async function reasons(namespace: string, serviceId: string) {
  const rows = await queryRows(
    t,
    "SELECT status, reason FROM claims WHERE namespace = ? AND service_id = ? ORDER BY created_at, rowid",
    [namespace, serviceId],
  );
  return rows.map((r) => `${r.status}:${r.reason ?? ""}`);
}

describe("pending cap per (namespace, service) and the namespace brake", () => {
  test("a service that fills its own queue does not starve another service of the namespace", async () => {
    const victim = await signUp(t);
    const flooder = await service();
    const legit = await service();
    expect(await fill(flooder, victim.namespace, 3)).toEqual(["pending", "pending", "rejected"]);
    expect(await reasons(victim.namespace, flooder.serviceId)).toEqual([
      "pending:",
      "pending:",
      "rejected:max_pending_reached",
    ]);
    expect(await fill(legit, victim.namespace, 2)).toEqual(["pending", "pending"]);
    expect(await fill(legit, victim.namespace, 1)).toEqual(["rejected"]);
  });

  test("the namespace-wide brake stops the sum; blocking the flooders frees it", async () => {
    const victim = await signUp(t);
    const [a, b, c] = [await service(), await service(), await service()];
    expect(await fill(a, victim.namespace, 2)).toEqual(["pending", "pending"]);
    expect(await fill(b, victim.namespace, 2)).toEqual(["pending", "pending"]);
    // Four pending in the namespace: the brake answers even for a service with none pending.
    expect(await fill(c, victim.namespace, 1)).toEqual(["rejected"]);
    expect(await reasons(victim.namespace, c.serviceId)).toEqual(["rejected:max_pending_reached"]);

    // A blocked service's pending claims no longer count against the brake.
    const put = await victim.client.put<Policy>(`/v1/namespaces/${victim.namespace}/policy`, {
      blocked_services: [a.slug],
    });
    expect(put.status).toBe(200);
    expect(await fill(c, victim.namespace, 1)).toEqual(["pending"]);
  });

  test("a deleted service's pending claims (orphaned, never verifiable) do not count against the brake", async () => {
    const victim = await signUp(t);
    const [a, b, c] = [await service(), await service(), await service()];
    await fill(a, victim.namespace, 2);
    await fill(b, victim.namespace, 2);
    expect(await fill(c, victim.namespace, 1)).toEqual(["rejected"]);
    expect((await b.client.delete<Deleted>(`/v1/services/${b.serviceId}`)).status).toBe(200);
    expect(await fill(c, victim.namespace, 1)).toEqual(["pending"]);
  });

  test("the brake is per namespace", async () => {
    const first = await signUp(t);
    const second = await signUp(t);
    const [a, b] = [await service(), await service()];
    await fill(a, first.namespace, 2);
    await fill(b, first.namespace, 2);
    expect(await fill(a, second.namespace, 1)).toEqual(["pending"]);
  });
});

describe("a per-service cap at or above the brake", () => {
  test("the brake alone decides (cap 3, brake 2)", async () => {
    const other = await startTestServer({
      env: {
        SIGILUM_MAX_PENDING_CLAIMS: "3",
        SIGILUM_MAX_PENDING_CLAIMS_PER_NAMESPACE: "2",
      },
    });
    try {
      const owner = await signUp(other);
      const slug = uniqueName("svc");
      const svc = await owner.client.post<Service>("/v1/services", { slug, name: "S" });
      const key = (await owner.client.post<ApiKeyCreated>(`/v1/services/${svc.body.id}/keys`)).body
        .key;
      const statuses: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await submitClaim<ClaimSubmitted>(
          other,
          await newAgent(owner.namespace),
          key,
          slug,
        );
        statuses.push(res.body.status);
      }
      expect(statuses).toEqual(["pending", "pending", "rejected"]);
    } finally {
      await other.close();
    }
  });
});
