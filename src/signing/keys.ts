/** Agent public key encodings (signing.md §6, http-api.md §1.3) and the ids derived from them. */
import { createHash } from "node:crypto";
import { ID_FORMATS } from "../ids.ts";
import { base58Decode, base58Encode } from "./base58.ts";
import { fromBase64Strict, toBase64 } from "./encoding.ts";

export const ED25519_KEY_PREFIX = "ed25519:";
const DID_KEY_PREFIX = "did:key:";
const MULTIBASE_BASE58BTC = "z";
/** Multicodec varint for ed25519-pub. */
const ED25519_MULTICODEC = [0xed, 0x01] as const;
const KEY_LENGTH = 32;

/** `ed25519:<standard padded base64>`; unpadded base64 is rejected (the spec says padded). */
export function parseCanonicalKey(text: string): Uint8Array | null {
  if (!text.startsWith(ED25519_KEY_PREFIX)) return null;
  const raw = fromBase64Strict(text.slice(ED25519_KEY_PREFIX.length));
  return raw !== null && raw.length === KEY_LENGTH ? raw : null;
}

/** `did:key:z6Mk…` or bare `z6Mk…`: base58btc of 0xed 0x01 ‖ 32-byte key. */
export function parseMultibaseKey(text: string): Uint8Array | null {
  const multibase = text.startsWith(DID_KEY_PREFIX) ? text.slice(DID_KEY_PREFIX.length) : text;
  if (!multibase.startsWith(MULTIBASE_BASE58BTC)) return null;
  const decoded = base58Decode(multibase.slice(1));
  if (decoded === null || decoded.length !== ED25519_MULTICODEC.length + KEY_LENGTH) return null;
  if (decoded[0] !== ED25519_MULTICODEC[0] || decoded[1] !== ED25519_MULTICODEC[1]) return null;
  return decoded.slice(ED25519_MULTICODEC.length);
}

/** Any accepted input form → the raw 32-byte key, or `null`. Never throws. */
export function parseAgentKey(text: string): Uint8Array | null {
  return text.startsWith(ED25519_KEY_PREFIX) ? parseCanonicalKey(text) : parseMultibaseKey(text);
}

export function toCanonicalKey(raw: Uint8Array): string {
  assertKeyLength(raw);
  return `${ED25519_KEY_PREFIX}${toBase64(raw)}`;
}

/** Bare multibase form, `z6Mk…`. */
export function toMultibaseKey(raw: Uint8Array): string {
  assertKeyLength(raw);
  const prefixed = new Uint8Array(ED25519_MULTICODEC.length + KEY_LENGTH);
  prefixed.set(ED25519_MULTICODEC);
  prefixed.set(raw, ED25519_MULTICODEC.length);
  return `${MULTIBASE_BASE58BTC}${base58Encode(prefixed)}`;
}

export function toDidKey(raw: Uint8Array): string {
  return `${DID_KEY_PREFIX}${toMultibaseKey(raw)}`;
}

/** Any accepted form → canonical `ed25519:…`, or `null`. */
export function normalizeAgentKey(text: string): string | null {
  const raw = parseAgentKey(text);
  return raw === null ? null : toCanonicalKey(raw);
}

/** Lower-case hex of the first 8 bytes of SHA-256 of the raw key. */
export function keyFingerprint(raw: Uint8Array): string {
  assertKeyLength(raw);
  return createHash("sha256").update(raw).digest("hex").slice(0, 16);
}

export function isValidNamespace(namespace: string): boolean {
  return ID_FORMATS.namespace.test(namespace);
}

export const DID_PREFIX = "did:sigilum:";

/** The one spelling of a namespace's DID. */
export function didFor(namespace: string): string {
  return `${DID_PREFIX}${namespace}`;
}

export function keyIdFor(namespace: string, raw: Uint8Array): string {
  return `${didFor(namespace)}#ed25519-${keyFingerprint(raw)}`;
}

function assertKeyLength(raw: Uint8Array): void {
  if (raw.length !== KEY_LENGTH)
    throw new Error(`an Ed25519 public key is 32 bytes, got ${raw.length}`);
}
