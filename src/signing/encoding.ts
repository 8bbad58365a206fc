/** Strict base64 codecs: the profile fixes one spelling per field, so we accept only that. */

const STD_PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

/**
 * Standard, padded, canonical base64 (unused trailing bits zero); `null` otherwise.
 * Re-encoding rejects the several spellings Buffer would silently accept for one value.
 */
export function fromBase64Strict(text: string): Uint8Array | null {
  if (!STD_PADDED.test(text)) return null;
  // The pattern fixes the alphabet and the padding; "strict" refuses non-zero unused bits, the
  // last spelling freedom (what re-encoding and comparing used to catch, at five times the cost).
  try {
    return Uint8Array.fromBase64(text, { lastChunkHandling: "strict" });
  } catch {
    return null;
  }
}

/** base64url, padded or unpadded (§3 accepts both), canonical; `null` otherwise. */
export function fromBase64Url(text: string): Uint8Array | null {
  const unpadded = stripUrlPadding(text);
  if (unpadded === null || !URL_SAFE.test(unpadded) || unpadded.length % 4 === 1) return null;
  const bytes = new Uint8Array(Buffer.from(unpadded, "base64url"));
  return toBase64Url(bytes) === unpadded ? bytes : null;
}

/** Removes `=` padding only when it is exactly what a padded encoder would emit. */
function stripUrlPadding(text: string): string | null {
  const body = text.replace(/=+$/, "");
  const padding = text.length - body.length;
  if (padding === 0) return body;
  if (text.length % 4 !== 0 || padding > 2) return null;
  return padding === (4 - (body.length % 4)) % 4 ? body : null;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function utf8Bytes(text: string): Uint8Array {
  return utf8.encode(text);
}

/** UTF-8 decode that refuses malformed bytes instead of inserting U+FFFD. */
export function utf8Text(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}
