/** Ed25519 through WebCrypto: the only primitive the profile uses. */
import { BoundedCache } from "../cache.ts";
import { systemClock } from "../clock.ts";

/** PKCS#8 DER header for an Ed25519 private key; the 32-byte seed follows it. */
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const ALGORITHM = { name: "Ed25519" } as const;
const SEED_LENGTH = 32;

/**
 * Verification is a hot path; agents reuse keys, so imported keys are memoised. A memo of a pure
 * function, so it lives with the function (this module takes no app context) and never expires.
 */
const publicKeyCache = new BoundedCache<CryptoKey>(systemClock, Number.POSITIVE_INFINITY, 1024);

/** WebCrypto wants ArrayBuffer-backed views; copying also detaches us from caller buffers. */
function owned(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  // Allocate and set (a memcpy): `new Uint8Array(view)` copies element by element, 3 × slower.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

async function importPublicKey(raw: Uint8Array): Promise<CryptoKey> {
  const cacheKey = Buffer.from(raw).toString("hex");
  const cached = publicKeyCache.get(cacheKey);
  if (cached) return cached;
  const key = await crypto.subtle.importKey("raw", owned(raw), ALGORITHM, false, ["verify"]);
  publicKeyCache.set(cacheKey, key);
  return key;
}

/** `false` for any malformed key or signature; never throws. */
export async function verifyEd25519(
  publicKey: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = await importPublicKey(publicKey);
    return await crypto.subtle.verify(ALGORITHM, key, owned(signature), owned(data));
  } catch {
    return false;
  }
}

async function importSeed(seed: Uint8Array): Promise<CryptoKey> {
  if (seed.length !== SEED_LENGTH)
    throw new Error(`an Ed25519 seed is 32 bytes, got ${seed.length}`);
  const der = new Uint8Array(PKCS8_PREFIX.length + SEED_LENGTH);
  der.set(PKCS8_PREFIX);
  der.set(seed, PKCS8_PREFIX.length);
  return crypto.subtle.importKey("pkcs8", der, ALGORITHM, true, ["sign"]);
}

export async function signEd25519(seed: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const key = await importSeed(seed);
  return new Uint8Array(await crypto.subtle.sign(ALGORITHM, key, owned(data)));
}

/** The public key is the JWK `x` of the imported private key. */
export async function publicKeyFromSeed(seed: Uint8Array): Promise<Uint8Array> {
  const jwk = await crypto.subtle.exportKey("jwk", await importSeed(seed));
  if (typeof jwk.x !== "string") throw new Error("WebCrypto returned an Ed25519 JWK without x");
  return new Uint8Array(Buffer.from(jwk.x, "base64url"));
}

export function randomSeed(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(SEED_LENGTH));
}
