/**
 * Two instances on one database (operations.md §6, quality.md §3): a revocation made on one is
 * refused by the other within 250 ms, whatever SIGILUM_CACHE_TTL says. A is in-process, B a real
 * `sigilum serve` process on A's data dir with a 30 s cache, so only following the database's
 * change log (not expiry) can make B let go of what it cached.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { type ServerProcess, spawnServer } from "../helpers/process.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiKey,
  ApiKeyCreated,
  ApiKeyList,
  Claim,
  ClaimSubmitted,
  Deleted,
} from "../helpers/types.ts";

// 250 ms poll interval, plus room for scheduling on a loaded machine.
const WITHIN_MS = 400;

let a: TestServer;
let b: ServerProcess;

beforeAll(async () => {
  a = await startTestServer({ env: { SIGILUM_CACHE_TTL: "30s" } });
  b = await spawnServer({ dataDir: a.dataDir, env: { SIGILUM_CACHE_TTL: "30s" } });
});

afterAll(async () => {
  await b?.stop();
  await a?.close();
});

async function verifyOnB(s: ServiceSetup, apiKey: string, publicKey: string) {
  const q = new URLSearchParams({ namespace: s.namespace, public_key: publicKey });
  const res = await fetch(`${b.url}/v1/verify?${q}`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  return { status: res.status, body: (await res.json()) as { authorized?: boolean } };
}

/** Polls B from the moment the change returned on A; the time until `refused` says yes. */
async function msUntil(refused: () => Promise<boolean>): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 3_000) {
    if (await refused()) return performance.now() - started;
    await Bun.sleep(10);
  }
  return Number.POSITIVE_INFINITY;
}

describe("a change on A is seen by B within 250 ms", () => {
  test("a revoked API key", async () => {
    const s = await ownerWithKey(a);
    const created = await s.client.post<ApiKeyCreated>(`/v1/services/${s.serviceId}/keys`, {
      name: "short",
    });
    const agent = await newAgent(s.namespace);
    expect((await verifyOnB(s, created.body.key, agent.publicKey)).status).toBe(200);
    expect((await verifyOnB(s, created.body.key, agent.publicKey)).status).toBe(200); // cached
    const revoked = await s.client.delete<ApiKey>(
      `/v1/services/${s.serviceId}/keys/${created.body.id}`,
    );
    expect(revoked.status).toBe(200);
    const ms = await msUntil(
      async () => (await verifyOnB(s, created.body.key, agent.publicKey)).status === 401,
    );
    console.log(`key revoked on A, refused by B after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(WITHIN_MS);
  });

  test("a key rolled with no grace", async () => {
    const s = await ownerWithKey(a);
    const agent = await newAgent(s.namespace);
    expect((await verifyOnB(s, s.apiKey, agent.publicKey)).status).toBe(200);
    const keyId = (await s.client.get<ApiKeyList>(`/v1/services/${s.serviceId}/keys`)).body.keys[0]!
      .id;
    const rolled = await s.client.post<ApiKeyCreated>(
      `/v1/services/${s.serviceId}/keys/${keyId}/roll`,
      {
        grace_seconds: 0,
      },
    );
    expect(rolled.status).toBe(201);
    const ms = await msUntil(
      async () => (await verifyOnB(s, s.apiKey, agent.publicKey)).status === 401,
    );
    expect(ms).toBeLessThan(WITHIN_MS);
    expect((await verifyOnB(s, rolled.body.key, agent.publicKey)).status).toBe(200);
  });

  test("a revoked claim", async () => {
    const s = await ownerWithKey(a);
    const agent = await newAgent(s.namespace);
    const submitted = await submitClaim<ClaimSubmitted>(a, agent, s.apiKey, s.slug);
    expect(submitted.status).toBe(201);
    expect(
      (await s.client.post<Claim>(`/v1/claims/${submitted.body.claim_id}/approve`)).status,
    ).toBe(200);
    expect((await verifyOnB(s, s.apiKey, agent.publicKey)).body.authorized).toBe(true);
    expect((await verifyOnB(s, s.apiKey, agent.publicKey)).body.authorized).toBe(true); // cached
    expect(
      (await s.client.post<Claim>(`/v1/claims/${submitted.body.claim_id}/revoke`)).status,
    ).toBe(200);
    const ms = await msUntil(
      async () => (await verifyOnB(s, s.apiKey, agent.publicKey)).body.authorized === false,
    );
    console.log(`claim revoked on A, refused by B after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(WITHIN_MS);
    expect((await verifyOnB(s, s.apiKey, agent.publicKey)).body).toMatchObject({
      status: "revoked",
    });
  });

  test("an approval shows up too (the pending answer B cached is dropped)", async () => {
    const s = await ownerWithKey(a);
    const agent = await newAgent(s.namespace);
    const submitted = await submitClaim<ClaimSubmitted>(a, agent, s.apiKey, s.slug);
    expect((await verifyOnB(s, s.apiKey, agent.publicKey)).body).toMatchObject({
      authorized: false,
      status: "pending",
    });
    expect(
      (await s.client.post<Claim>(`/v1/claims/${submitted.body.claim_id}/approve`)).status,
    ).toBe(200);
    const ms = await msUntil(
      async () => (await verifyOnB(s, s.apiKey, agent.publicKey)).body.authorized === true,
    );
    expect(ms).toBeLessThan(WITHIN_MS);
  });

  test("a deleted service: its key is refused", async () => {
    const s = await ownerWithKey(a);
    const agent = await newAgent(s.namespace);
    expect((await verifyOnB(s, s.apiKey, agent.publicKey)).status).toBe(200);
    expect((await s.client.delete<Deleted>(`/v1/services/${s.serviceId}`)).status).toBe(200);
    const ms = await msUntil(
      async () => (await verifyOnB(s, s.apiKey, agent.publicKey)).status === 401,
    );
    expect(ms).toBeLessThan(WITHIN_MS);
  });

  test("a deleted account: its approved claims stop verifying for other owners' services", async () => {
    const provider = await ownerWithKey(a);
    const consumer = await ownerWithKey(a);
    const agent = await newAgent(consumer.namespace);
    const submitted = await submitClaim<ClaimSubmitted>(a, agent, provider.apiKey, provider.slug);
    expect(submitted.status).toBe(201);
    expect(
      (await consumer.client.post<Claim>(`/v1/claims/${submitted.body.claim_id}/approve`)).status,
    ).toBe(200);
    const onB = () =>
      verifyOnB({ ...provider, namespace: consumer.namespace }, provider.apiKey, agent.publicKey);
    expect((await onB()).body.authorized).toBe(true);
    expect((await consumer.client.delete<Deleted>("/v1/auth/account")).status).toBe(200);
    const ms = await msUntil(async () => (await onB()).body.authorized !== true);
    expect(ms).toBeLessThan(WITHIN_MS);
  });
});
