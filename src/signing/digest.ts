/** `content-digest` (signing.md §1): only sha-256, standard padded base64, RFC 9530 byte-sequence. */
import { createHash } from "node:crypto";
import { fromBase64Strict, toBase64 } from "./encoding.ts";

const CONTENT_DIGEST = /^sha-256=:([^:]*):$/;

export function contentDigest(body: Uint8Array): string {
  return `sha-256=:${toBase64(createHash("sha256").update(body).digest())}:`;
}

/** The 32 digest bytes, or `null` when the value is not exactly `sha-256=:<b64>:`. */
export function parseContentDigest(value: string): Uint8Array | null {
  const match = CONTENT_DIGEST.exec(value);
  const bytes = match ? fromBase64Strict(match[1] ?? "") : null;
  return bytes !== null && bytes.length === 32 ? bytes : null;
}
