import { encodeBase62, randomBase62 } from "./ids.ts";

/**
 * Bearer secrets (`sgl_sk_…`, `sgl_pat_…`): 32 base62 chars of randomness followed by 6 base62
 * chars of CRC-32 over everything before them, so scanners can tell a real secret from a typo.
 * Bun.hash.crc32 is the IEEE CRC-32 (zlib's), so every secret ever minted keeps validating.
 */
export function mintSecret(head: string): string {
  const body = `${head}${randomBase62(32)}`;
  return `${body}${encodeBase62(Bun.hash.crc32(body), 6)}`;
}

export function hasValidChecksum(secret: string): boolean {
  if (secret.length < 7) return false;
  const body = secret.slice(0, -6);
  return encodeBase62(Bun.hash.crc32(body), 6) === secret.slice(-6);
}

/** The first 16 characters: shown in lists so owners can tell their secrets apart. */
export function secretPrefix(secret: string): string {
  return secret.slice(0, 16);
}
