// Baseline servers for the verify benchmarks, each run as its own process:
//   bun bench/baseline.ts json <port>     a bare Bun.serve returning a fixed JSON body
//   bun bench/baseline.ts ed25519 <port>  the same, after ONE Ed25519 verify per request
//                                         (crypto.subtle.verify, fixed message, fixed key)
//   bun bench/baseline.ts claims <port> <db>  per request: read the body, ONE Ed25519 verify, then
//                                         ONE durable INSERT (its own commit) into a libSQL
//                                         embedded file with the app's settings (WAL,
//                                         synchronous=NORMAL, one connection); 201 + small JSON
import { createClient } from "@libsql/client";

/** The shape of an authorized `GET /v1/verify` answer. */
export const FIXED_BODY = {
  authorized: true,
  claim_id: "claim_0123456789abcdefghijklmn",
  approved_at: "2026-01-01T00:00:00.000Z",
  status: "approved",
};

const ED25519 = { name: "Ed25519" } as const;

/** A message the size of a real signature base (~700 bytes), signed once at start-up. */
async function fixedSignature() {
  const pair = (await crypto.subtle.generateKey(ED25519, false, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const message = new TextEncoder().encode(`"@method": get\n${"x".repeat(700)}`);
  const signature = await crypto.subtle.sign(ED25519, pair.privateKey, message);
  return { key: pair.publicKey, message, signature };
}

function serveJson(port: number) {
  const body = JSON.stringify(FIXED_BODY);
  return Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch: () => new Response(body, { headers: { "content-type": "application/json" } }),
  });
}

async function serveEd25519(port: number) {
  const body = JSON.stringify(FIXED_BODY);
  const { key, message, signature } = await fixedSignature();
  return Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch() {
      const ok = await crypto.subtle.verify(ED25519, key, signature, message);
      if (!ok) return new Response("bad signature", { status: 500 });
      return new Response(body, { headers: { "content-type": "application/json" } });
    },
  });
}

/**
 * The claims baseline's database: the app's embedded settings (src/db/client.ts, lockWait.ts) —
 * one connection, WAL, synchronous=NORMAL — and a table shaped like a claim row.
 */
async function claimsDatabase(path: string) {
  const client = createClient({ url: `file:${path}`, concurrency: 1 } as Parameters<
    typeof createClient
  >[0]);
  await client.execute("PRAGMA journal_mode=WAL");
  await client.executeMultiple(
    "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
  );
  await client.execute(`CREATE TABLE IF NOT EXISTS claims (
    id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at INTEGER NOT NULL)`);
  return client;
}

async function serveClaims(port: number, dbPath: string) {
  const client = await claimsDatabase(dbPath);
  const { key, message, signature } = await fixedSignature();
  return Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(req) {
      if (req.method !== "POST") return new Response("ok");
      const body = await req.text();
      const ok = await crypto.subtle.verify(ED25519, key, signature, message);
      if (!ok) return new Response("bad signature", { status: 500 });
      const id = crypto.randomUUID();
      await client.execute({
        sql: "INSERT INTO claims (id, body, created_at) VALUES (?, ?, ?)",
        args: [id, body, Date.now()],
      });
      return Response.json({ claim_id: id, status: "pending" }, { status: 201 });
    },
  });
}

if (import.meta.main) {
  const [mode, port, dbPath] = process.argv.slice(2);
  if (mode === "json") serveJson(Number(port));
  else if (mode === "ed25519") await serveEd25519(Number(port));
  else if (mode === "claims" && dbPath) await serveClaims(Number(port), dbPath);
  else throw new Error("usage: bun bench/baseline.ts json|ed25519 <port> | claims <port> <db>");
}
