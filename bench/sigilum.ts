// The real server for the load benchmarks (`bun src/main.ts serve` in its own process) and the
// HTTP set-up every benchmark needs: an owner, a service with an API key, signed claims.
import { join } from "node:path";
import { type GeneratedIdentity, signRequest } from "../src/signing/index.ts";
import { type Spawned, spawnServer } from "./lib.ts";

const ROOT = join(import.meta.dir, "..");
const PASSWORD = "correct horse battery staple";

/** Limits raised so the benchmark measures the work, not the rate limiter. */
const BENCH_LIMITS = {
  SIGILUM_RATE_LIMIT_VERIFY: "100000000",
  SIGILUM_RATE_LIMIT_CLAIMS: "10000000",
  SIGILUM_RATE_LIMIT_AUTH: "1000000",
  SIGILUM_MAX_PENDING_CLAIMS: "1000000",
  SIGILUM_MAX_PENDING_CLAIMS_PER_NAMESPACE: "1000000",
};

/** `BENCH_SERVER_FLAGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof"` profiles the server. */
export function startSigilum(
  dataDir: string,
  logFile: string,
  extraEnv: Record<string, string> = {},
): Promise<Spawned> {
  const flags = process.env.BENCH_SERVER_FLAGS?.split(" ").filter(Boolean) ?? [];
  return spawnServer(
    [process.execPath, ...flags, join(ROOT, "src/main.ts"), "serve"],
    (port) => ({
      SIGILUM_DATA_DIR: dataDir,
      SIGILUM_PORT: String(port),
      SIGILUM_HOST: "127.0.0.1",
      SIGILUM_LOG_LEVEL: "warn",
      ...BENCH_LIMITS,
      ...extraEnv,
    }),
    "/readyz",
    logFile,
  );
}

export interface Owner {
  url: string;
  namespace: string;
  cookie: string;
  slug: string;
  apiKey: string;
}

/** A JSON call as the signed-in owner (session cookie + Origin, like a browser). */
export async function ownerCall(
  owner: Pick<Owner, "url" | "cookie">,
  method: string,
  path: string,
  body?: unknown,
) {
  const res = await fetch(`${owner.url}${path}`, {
    method,
    headers: {
      origin: owner.url,
      cookie: `sigilum_session=${owner.cookie}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function signUp(url: string, namespace: string): Promise<string> {
  const res = await fetch(`${url}/v1/auth/signup`, {
    method: "POST",
    headers: { origin: url, "content-type": "application/json" },
    body: JSON.stringify({ namespace, email: `${namespace}@example.com`, password: PASSWORD }),
  });
  if (res.status !== 201) throw new Error(`signup: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("sigilum_session="));
  if (!cookie) throw new Error("signup set no session cookie");
  return cookie.slice("sigilum_session=".length).split(";")[0]!;
}

/** Signs up an owner and registers one service with one API key. */
export async function ownerWithKey(url: string, namespace: string, slug: string): Promise<Owner> {
  const cookie = await signUp(url, namespace);
  const service = await ownerCall({ url, cookie }, "POST", "/v1/services", { slug, name: "Bench" });
  const key = await ownerCall({ url, cookie }, "POST", `/v1/services/${service.id}/keys`);
  return { url, namespace, cookie, slug, apiKey: String(key.key) };
}

/** The signed headers and body of `POST /v1/claims` for a new claim by `agent`. */
export async function signedClaim(owner: Owner, agent: GeneratedIdentity, nonce: string) {
  const body = JSON.stringify({
    namespace: agent.namespace,
    public_key: agent.publicKey,
    service: owner.slug,
    agent_ip: "203.0.113.7",
    nonce,
  });
  const headers = await signRequest({
    method: "POST",
    url: `${owner.url}/v1/claims`,
    headers: { "content-type": "application/json", authorization: `Bearer ${owner.apiKey}` },
    body,
    identity: agent,
    nonce,
  });
  return { headers, body };
}

/** Submits a claim for `agent` and approves it as the owner; returns the claim id. */
export async function approvedClaim(owner: Owner, agent: GeneratedIdentity): Promise<string> {
  const { headers, body } = await signedClaim(owner, agent, `bench-setup-${crypto.randomUUID()}`);
  const res = await fetch(`${owner.url}/v1/claims`, { method: "POST", headers, body });
  const claim = (await res.json()) as { claim_id?: string };
  if (res.status !== 201 || !claim.claim_id)
    throw new Error(`claim: ${res.status} ${JSON.stringify(claim)}`);
  await ownerCall(owner, "POST", `/v1/claims/${claim.claim_id}/approve`);
  return claim.claim_id;
}

/** Runs `fn` over `count` indexes, `batch` at a time (signing is parallel inside WebCrypto). */
export async function inBatches<T>(
  count: number,
  batch: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < count; start += batch) {
    const size = Math.min(batch, count - start);
    out.push(...(await Promise.all(Array.from({ length: size }, (_, j) => fn(start + j)))));
  }
  return out;
}
