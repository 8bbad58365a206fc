import { createHmac } from "node:crypto";
import { safeEqual } from "../crypto.ts";

/**
 * Delivery signatures (webhooks.md §3). The seed's `v1` is lower-case hex HMAC-SHA256 keyed with
 * the whole secret string over `${t}.${body}`; the Standard Webhooks one is base64 HMAC keyed with
 * the base64-decoded secret after `whsec_` over `${eventId}.${t}.${body}`.
 */
export function seedSignature(secret: string, t: number, body: string): string {
  return createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
}

export function standardWebhooksSignature(
  secret: string,
  eventId: string,
  t: number,
  body: string,
): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  return createHmac("sha256", key).update(`${eventId}.${t}.${body}`).digest("base64");
}

export interface SignatureHeaders {
  "x-sigilum-signature": string;
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** Both header families, one signature per live secret (current first, then the one in grace). */
export function signatureHeaders(
  secrets: string[],
  eventId: string,
  t: number,
  body: string,
): SignatureHeaders {
  return {
    "x-sigilum-signature": [
      `t=${t}`,
      ...secrets.map((s) => `v1=${seedSignature(s, t, body)}`),
    ].join(","),
    "webhook-id": eventId,
    "webhook-timestamp": String(t),
    "webhook-signature": secrets
      .map((s) => `v1,${standardWebhooksSignature(s, eventId, t, body)}`)
      .join(" "),
  };
}

export type ReceiverCheck = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * What a receiver does with `X-Sigilum-Signature`: parse `t=…,v1=…[,v1=…]`, reject a timestamp
 * outside the tolerance (default 5 minutes, the convention), and accept if any v1 matches.
 */
export function verifyWebhookSignature(input: {
  secret: string;
  header: string;
  body: string;
  toleranceSeconds?: number;
  nowMs?: number;
}): ReceiverCheck {
  const parts = input.header.split(",").map((p) => p.trim());
  const t = Number(parts.find((p) => p.startsWith("t="))?.slice(2));
  const candidates = parts.filter((p) => p.startsWith("v1=")).map((p) => p.slice(3));
  if (!Number.isInteger(t) || t <= 0 || candidates.length === 0) {
    return { ok: false, reason: "header must look like t=<unix seconds>,v1=<hex>" };
  }
  const now = Math.floor((input.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - t) > (input.toleranceSeconds ?? 300)) {
    return { ok: false, reason: `timestamp ${t} is outside the tolerance` };
  }
  const expected = seedSignature(input.secret, t, input.body);
  return candidates.some((c) => safeEqual(c, expected))
    ? { ok: true, timestamp: t }
    : { ok: false, reason: "no signature matches this secret" };
}
