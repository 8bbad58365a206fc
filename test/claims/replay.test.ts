/**
 * Two server processes on one database file (quality.md §3): a signed request accepted by one
 * instance is a replay on the other (the nonce store is the database), and a revocation made on
 * one instance is seen by the other's verify.
 *
 * Both instances sit behind the same public origin (SIGILUM_PUBLIC_URL), as they would behind one
 * load balancer: @target-uri is then the same on both, so a byte-identical request verifies on
 * either one and only the nonce can stop it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { signRequest } from "../../src/signing/index.ts";
import { type Agent, claimBody, newAgent } from "../helpers/agent.ts";
import { type ServerProcess, spawnServer } from "../helpers/process.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  ApiKey,
  ApiKeyCreated,
  Claim,
  ClaimSubmitted,
  VerifyAnswer,
} from "../helpers/types.ts";

const PUBLIC_URL = "https://registry.example.com";

/** `T`: the body the test expects (a claim, an error, a verify answer). */
interface Result<T> {
  status: number;
  body: T;
}

/** One signed POST /v1/claims, built once so the exact same bytes can go to either instance. */
interface Prepared {
  headers: Record<string, string>;
  body: string;
}

async function prepareClaim(agent: Agent, s: ServiceSetup): Promise<Prepared> {
  const body = JSON.stringify(claimBody(agent, s.slug));
  const headers = await signRequest({
    method: "POST",
    url: `${PUBLIC_URL}/v1/claims`,
    headers: { "content-type": "application/json", authorization: `Bearer ${s.apiKey}` },
    body,
    identity: agent,
  });
  return { headers, body };
}

async function sendTo<T = ClaimSubmitted>(baseUrl: string, p: Prepared): Promise<Result<T>> {
  const res = await fetch(`${baseUrl}/v1/claims`, {
    method: "POST",
    headers: p.headers,
    body: p.body,
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** A second real `sigilum serve` process on A's data dir (same libSQL file, same secret.key). */
function spawnInstance(dataDir: string, env: Record<string, string>): Promise<ServerProcess> {
  return spawnServer({ dataDir, env: { SIGILUM_PUBLIC_URL: PUBLIC_URL, ...env } });
}

let a: TestServer;
let b: ServerProcess; // SIGILUM_CACHE_TTL=0s
let c: ServerProcess; // SIGILUM_CACHE_TTL=1s: another instance sees revocations within the TTL
let bUrl: string;
let s: ServiceSetup;

beforeAll(async () => {
  a = await startTestServer({ env: { SIGILUM_PUBLIC_URL: PUBLIC_URL } });
  // The owner (cookie client with the public Origin for CSRF) lives on A.
  [s, b, c] = await Promise.all([
    ownerWithKey({ ...a, origin: PUBLIC_URL }),
    spawnInstance(a.dataDir, { SIGILUM_CACHE_TTL: "0s" }),
    spawnInstance(a.dataDir, { SIGILUM_CACHE_TTL: "1s" }),
  ]);
  bUrl = b.url;
});

afterAll(async () => {
  await Promise.all([b?.stop(), c?.stop()]);
  await a?.close();
});

async function claimRows(publicKey: string) {
  const rs = await a.server.ctx.database.client.execute({
    sql: "SELECT id FROM claims WHERE public_key = ?",
    args: [publicKey],
  });
  return rs.rows.map((r) => String(r.id));
}

async function eventCount(publicKey: string): Promise<number> {
  const rs = await a.server.ctx.database.client.execute({
    sql: "SELECT count(*) AS n FROM events WHERE claim_id IN (SELECT id FROM claims WHERE public_key = ?)",
    args: [publicKey],
  });
  return Number(rs.rows[0]!.n);
}

async function verifyOn(baseUrl: string, publicKey: string): Promise<Result<VerifyAnswer>> {
  const q = new URLSearchParams({ namespace: s.namespace, public_key: publicKey });
  const res = await fetch(`${baseUrl}/v1/verify?${q}`, {
    headers: { authorization: `Bearer ${s.apiKey}` },
  });
  return { status: res.status, body: (await res.json()) as VerifyAnswer };
}

describe("two server processes sharing one database", () => {
  test("B is a separate process on the same data (it knows A's owner and key)", async () => {
    expect(b.child.pid).not.toBe(process.pid);
    const agent = await newAgent(s.namespace);
    const res = await verifyOn(bUrl, agent.publicKey);
    expect(res).toEqual({
      status: 200,
      body: { authorized: false, status: "none", reason: "No approved authorization found" },
    });
  });

  test("accepted by A, the byte-identical request to B → 409 SIGNATURE_NONCE_REPLAY", async () => {
    const agent = await newAgent(s.namespace);
    const p = await prepareClaim(agent, s);
    const first = await sendTo(a.url, p);
    expect(first.status).toBe(201);
    const replay = await sendTo<ApiErrorBody>(bUrl, p);
    expect(replay.status).toBe(409);
    expect(replay.body).toMatchObject({ code: "SIGNATURE_NONCE_REPLAY" });
    expect(typeof replay.body.request_id).toBe("string");
    expect(await claimRows(agent.publicKey)).toEqual([first.body.claim_id]);
    expect(await eventCount(agent.publicKey)).toBe(1);
  });

  test("accepted by B, the byte-identical request to A → 409 SIGNATURE_NONCE_REPLAY", async () => {
    const agent = await newAgent(s.namespace);
    const p = await prepareClaim(agent, s);
    const first = await sendTo(bUrl, p);
    expect(first.status).toBe(201);
    const replay = await sendTo<ApiErrorBody>(a.url, p);
    expect(replay.status).toBe(409);
    expect(replay.body.code).toBe("SIGNATURE_NONCE_REPLAY");
    expect(await claimRows(agent.publicKey)).toEqual([first.body.claim_id]);
    expect(await eventCount(agent.publicKey)).toBe(1);
  });

  test("the same request to A and B at once: exactly one 201, the other 409", async () => {
    for (let round = 0; round < 5; round++) {
      const agent = await newAgent(s.namespace);
      const p = await prepareClaim(agent, s);
      const results = await Promise.all([
        sendTo<ClaimSubmitted | ApiErrorBody>(a.url, p),
        sendTo<ClaimSubmitted | ApiErrorBody>(bUrl, p),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      expect(results.find((r) => r.status === 409)!.body).toMatchObject({
        code: "SIGNATURE_NONCE_REPLAY",
      });
      expect(await claimRows(agent.publicKey)).toHaveLength(1);
      expect(await eventCount(agent.publicKey)).toBe(1);
    }
  });

  test("approve and revoke on A are seen by verify on B (SIGILUM_CACHE_TTL=0s)", async () => {
    const agent = await newAgent(s.namespace);
    const submitted = await sendTo(a.url, await prepareClaim(agent, s));
    expect(submitted.status).toBe(201);
    const claimId = submitted.body.claim_id;

    expect((await verifyOn(bUrl, agent.publicKey)).body).toMatchObject({
      authorized: false,
      status: "pending",
    });

    expect((await s.client.post<Claim>(`/v1/claims/${claimId}/approve`)).status).toBe(200);
    expect((await verifyOn(bUrl, agent.publicKey)).body).toMatchObject({
      authorized: true,
      status: "approved",
      claim_id: claimId,
    });

    expect((await s.client.post<Claim>(`/v1/claims/${claimId}/revoke`)).status).toBe(200);
    expect((await verifyOn(bUrl, agent.publicKey)).body).toEqual({
      authorized: false,
      status: "revoked",
      reason: "Authorization revoked",
    });
    // and A agrees
    expect((await verifyOn(a.url, agent.publicKey)).body.authorized).toBe(false);
  });

  // Decision (issue 3, operations.md §6): caches are invalidated at once in the process that made
  // the change and expire within SIGILUM_CACHE_TTL elsewhere. C runs with a 1 s TTL.
  const afterTtl = () => Bun.sleep(1_100);

  test("a key revoked on A is refused by another instance (C) within its SIGILUM_CACHE_TTL", async () => {
    const created = await s.client.post<ApiKeyCreated>(`/v1/services/${s.serviceId}/keys`, {
      name: "short-lived",
    });
    expect(created.status).toBe(201);
    const agent = await newAgent(s.namespace);
    const q = new URLSearchParams({ namespace: s.namespace, public_key: agent.publicKey });
    const useOnC = () =>
      fetch(`${c.url}/v1/verify?${q}`, {
        headers: { authorization: `Bearer ${created.body.key}` },
      });
    expect((await useOnC()).status).toBe(200); // warms C's key cache
    const revoked = await s.client.delete<ApiKey>(
      `/v1/services/${s.serviceId}/keys/${created.body.id}`,
    );
    expect(revoked.status).toBe(200);
    expect(
      (
        await fetch(`${a.url}/v1/verify?${q}`, {
          headers: { authorization: `Bearer ${created.body.key}` },
        })
      ).status,
    ).toBe(401);
    await afterTtl();
    expect((await useOnC()).status).toBe(401);
  });

  test("a claim revoked on A stops verifying on another instance (C) within its SIGILUM_CACHE_TTL", async () => {
    const agent = await newAgent(s.namespace);
    const submitted = await sendTo(a.url, await prepareClaim(agent, s));
    expect(submitted.status).toBe(201);
    expect(
      (await s.client.post<Claim>(`/v1/claims/${submitted.body.claim_id}/approve`)).status,
    ).toBe(200);
    expect((await verifyOn(c.url, agent.publicKey)).body.authorized).toBe(true); // warms C
    expect(
      (await s.client.post<Claim>(`/v1/claims/${submitted.body.claim_id}/revoke`)).status,
    ).toBe(200);
    expect((await verifyOn(a.url, agent.publicKey)).body.authorized).toBe(false);
    await afterTtl();
    expect((await verifyOn(c.url, agent.publicKey)).body).toMatchObject({
      authorized: false,
      status: "revoked",
    });
  });
});
