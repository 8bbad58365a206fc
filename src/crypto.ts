import { createCipheriv, createDecipheriv, createHash, timingSafeEqual } from "node:crypto";
import { randomBytes } from "./ids.ts";

/** SHA-256 hex: how API keys, tokens and session tokens are stored. */
export function sha256Hex(text: string): string {
  // Bun's one-shot hash: a third of createHash's cost, and it runs for every API key presented.
  return Bun.SHA256.hash(text, "hex") as string;
}

/** Constant-time string comparison (length leak only). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/**
 * AES-256-GCM box for secrets at rest. The key id (first 8 hex of the key's SHA-256) is stored
 * with each ciphertext so the master key can be rotated later.
 */
/** A sealed secret this server cannot open: sealed under another master key, or damaged. */
export class SecretUnavailableError extends Error {}

export interface SecretBox {
  keyId: string;
  seal(plaintext: string): { keyId: string; ciphertext: string };
  open(ciphertext: string, keyId: string): string;
}

export function createSecretBox(masterKey: Uint8Array): SecretBox {
  const keyId = createHash("sha256").update(masterKey).digest("hex").slice(0, 8);
  return {
    keyId,
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", masterKey, iv);
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64");
      return { keyId, ciphertext: sealed };
    },
    open(ciphertext, storedKeyId) {
      if (storedKeyId !== keyId)
        throw new SecretUnavailableError(
          `sealed under master key id ${storedKeyId}, this server holds key id ${keyId}`,
        );
      const raw = Buffer.from(ciphertext, "base64");
      try {
        const decipher = createDecipheriv("aes-256-gcm", masterKey, raw.subarray(0, 12));
        decipher.setAuthTag(raw.subarray(raw.length - 16));
        return Buffer.concat([
          decipher.update(raw.subarray(12, raw.length - 16)),
          decipher.final(),
        ]).toString("utf8");
      } catch {
        throw new SecretUnavailableError(
          `the ciphertext under key id ${keyId} does not authenticate`,
        );
      }
    },
  };
}
