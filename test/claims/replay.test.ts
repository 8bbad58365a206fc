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
import { join } from "node:path";
import type { Subprocess } from "bun";
import { signRequest } from "../../src/signing/index.ts";
import { type Agent, claimBody, newAgent } from "../helpers/agent.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";

const PUBLIC_URL = "https://registry.example.com";
const REPO_ROOT = join(import.meta.dir, "..", "..");

interface Result {
  status: number;
  body: any;
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

async function sendTo(baseUrl: string, p: Prepared): Promise<Result> {
  const res = await fetch(`${baseUrl}/v1/claims`, {
    method: "POST",
    headers: p.headers,
    body: p.body,
  });
  return { status: res.status, body: await res.json() };
}

async function freePort(): Promise<number> {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port!;
  await probe.stop(true);
  return port;
}

async function waitReady(url: string, child: Subprocess, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited early (${child.exitCode})`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(25);
  }
  throw new Error(`server not ready at ${url} within ${timeoutMs} ms`);
}

interface Instance {
  url: string;
  child: Subprocess<"ignore", "ignore", "pipe">;
}

/** A second real `sigilum serve` process on A's data dir (same libSQL file, same secret.key). */
async function spawnInstance(dataDir: string, env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = Bun.spawn([process.execPath, "src/main.ts", "serve"], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      SIGILUM_DATA_DIR: dataDir,
      SIGILUM_PORT: String(port),
      SIGILUM_HOST: "127.0.0.1",
      SIGILUM_PUBLIC_URL: PUBLIC_URL,
      SIGILUM_LOG_LEVEL: "warn",
      SIGILUM_RATE_LIMIT_AUTH: "10000",
      ...env,
    },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  try {
    await waitReady(url, child);
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${err}\n${await new Response(child.stderr).text()}`);
  }
  return { url, child };
}

async function stop(instance: Instance | undefined): Promise<void> {
  if (!instance || instance.child.exitCode !== null) return;
  instance.child.kill("SIGTERM");
  await instance.child.exited;
}

let a: TestServer;
let b: Instance; // SIGILUM_CACHE_TTL=0s
let c: Instance; // SIGILUM_CACHE_TTL=1s: another instance sees revocations within the TTL
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
  await Promise.all([stop(b), stop(c)]);
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

async function verifyOn(baseUrl: string, publicKey: string): Promise<Result> {
  const q = new URLSearchParams({ namespace: s.namespace, public_key: publicKey });
  const res = await fetch(`${baseUrl}/v1/verify?${q}`, {
    headers: { authorization: `Bearer ${s.apiKey}` },
  });
  return { status: res.status, body: await res.json() };
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
    const replay = await sendTo(bUrl, p);
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
    const replay = await sendTo(a.url, p);
    expect(replay.status).toBe(409);
    expect(replay.body.code).toBe("SIGNATURE_NONCE_REPLAY");
    expect(await claimRows(agent.publicKey)).toEqual([first.body.claim_id]);
    expect(await eventCount(agent.publicKey)).toBe(1);
  });

  test("the same request to A and B at once: exactly one 201, the other 409", async () => {
    for (let round = 0; round < 5; round++) {
      const agent = await newAgent(s.namespace);
      const p = await prepareClaim(agent, s);
      const results = await Promise.all([sendTo(a.url, p), sendTo(bUrl, p)]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      expect(results.find((r) => r.status === 409)!.body.code).toBe("SIGNATURE_NONCE_REPLAY");
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

    expect((await s.client.post(`/v1/claims/${claimId}/approve`)).status).toBe(200);
    expect((await verifyOn(bUrl, agent.publicKey)).body).toMatchObject({
      authorized: true,
      status: "approved",
      claim_id: claimId,
    });

    expect((await s.client.post(`/v1/claims/${claimId}/revoke`)).status).toBe(200);
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
    const created = await s.client.post(`/v1/services/${s.serviceId}/keys`, {
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
    const revoked = await s.client.delete(`/v1/services/${s.serviceId}/keys/${created.body.id}`);
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
    expect((await s.client.post(`/v1/claims/${submitted.body.claim_id}/approve`)).status).toBe(200);
    expect((await verifyOn(c.url, agent.publicKey)).body.authorized).toBe(true); // warms C
    expect((await s.client.post(`/v1/claims/${submitted.body.claim_id}/revoke`)).status).toBe(200);
    expect((await verifyOn(a.url, agent.publicKey)).body.authorized).toBe(false);
    await afterTtl();
    expect((await verifyOn(c.url, agent.publicKey)).body).toMatchObject({
      authorized: false,
      status: "revoked",
    });
  });
});
