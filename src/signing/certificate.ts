/** The self-signed agent certificate (signing.md §3). It proves key possession, never namespace ownership. */
import { BoundedCache } from "../cache.ts";
import { systemClock } from "../clock.ts";
import { publicKeyFromSeed, signEd25519, verifyEd25519 } from "./ed25519.ts";
import { fromBase64Url, toBase64Url, utf8Bytes, utf8Text } from "./encoding.ts";
import { didFor, keyIdFor, parseCanonicalKey, toCanonicalKey } from "./keys.ts";

export interface AgentCertificate {
  version: 1;
  namespace: string;
  did: string;
  keyId: string;
  publicKey: string;
  issuedAt: string;
  expiresAt: string | null;
  proof: { alg: "ed25519"; sig: string };
}

export type UnsignedCertificate = Omit<AgentCertificate, "proof">;

export type CertificateCheck = { ok: true } | { ok: false; reason: string };

const CERTIFICATE_VERSION = 1;

/** The seven lines the proof signs, joined with `\n`, no trailing newline. */
export function certificateProofPayload(cert: UnsignedCertificate): string {
  return [
    "sigilum-certificate-v1",
    `namespace:${cert.namespace}`,
    `did:${cert.did}`,
    `key-id:${cert.keyId}`,
    `public-key:${cert.publicKey}`,
    `issued-at:${cert.issuedAt}`,
    `expires-at:${cert.expiresAt ?? ""}`,
  ].join("\n");
}

/** Signs arbitrary certificate fields; `createCertificate` is the normal entry point. */
export async function signCertificate(
  fields: UnsignedCertificate,
  seed: Uint8Array,
): Promise<AgentCertificate> {
  const sig = await signEd25519(seed, utf8Bytes(certificateProofPayload(fields)));
  // Field order matches the SDKs' JSON, so our headers look like theirs.
  return {
    version: fields.version,
    namespace: fields.namespace,
    did: fields.did,
    keyId: fields.keyId,
    publicKey: fields.publicKey,
    issuedAt: fields.issuedAt,
    expiresAt: fields.expiresAt,
    proof: { alg: "ed25519", sig: toBase64Url(sig) },
  };
}

export async function createCertificate(options: {
  namespace: string;
  seed: Uint8Array;
  issuedAt: string;
  expiresAt?: string | null;
}): Promise<AgentCertificate> {
  const raw = await publicKeyFromSeed(options.seed);
  const fields: UnsignedCertificate = {
    version: CERTIFICATE_VERSION,
    namespace: options.namespace,
    did: didFor(options.namespace),
    keyId: keyIdFor(options.namespace, raw),
    publicKey: toCanonicalKey(raw),
    issuedAt: options.issuedAt,
    expiresAt: options.expiresAt ?? null,
  };
  return signCertificate(fields, options.seed);
}

/** Header form: UTF-8 JSON, base64url without padding. Extra fields on `cert` are kept. */
export function encodeCertificate(cert: AgentCertificate): string {
  return toBase64Url(utf8Bytes(JSON.stringify(cert)));
}

/** Header → certificate (padded or unpadded base64url); `null` if undecodable or mis-shaped. */
export function decodeCertificate(header: string): AgentCertificate | null {
  const bytes = fromBase64Url(header);
  const json = bytes === null ? null : utf8Text(bytes);
  if (json === null) return null;
  try {
    return asCertificate(JSON.parse(json));
  } catch {
    return null;
  }
}

/**
 * Shape check for a parsed certificate; unknown extra fields are kept but ignored.
 * `expiresAt` absent or "" reads as null: the proof line is identical ("expires-at:").
 */
export function asCertificate(value: unknown): AgentCertificate | null {
  if (!isRecord(value) || !isRecord(value.proof)) return null;
  const { version, namespace, did, keyId, publicKey, issuedAt, proof } = value;
  const expiresAt =
    value.expiresAt === undefined || value.expiresAt === "" ? null : value.expiresAt;
  if (version !== CERTIFICATE_VERSION) return null;
  if (![namespace, did, keyId, publicKey, issuedAt].every(isLineSafeText)) return null;
  if (expiresAt !== null && !isLineSafeText(expiresAt)) return null;
  if (proof.alg !== "ed25519" || typeof proof.sig !== "string") return null;
  return { ...value, expiresAt } as AgentCertificate;
}

/** All of §3: the reference checks plus did / keyId prefix / expiry, then the proof. */
export async function verifyCertificate(
  cert: AgentCertificate,
  nowMs: number,
): Promise<CertificateCheck> {
  if (cert.did !== didFor(cert.namespace))
    return fail(`certificate did must be ${didFor(cert.namespace)}`);
  if (!cert.keyId.startsWith(`${cert.did}#`))
    return fail("certificate keyId must start with its did followed by #");
  if (cert.expiresAt !== null) {
    const expiresAt = Date.parse(cert.expiresAt);
    if (!Number.isFinite(expiresAt)) return fail("certificate expiresAt is not a date");
    if (expiresAt <= nowMs) return fail("certificate has expired");
  }
  const raw = parseCanonicalKey(cert.publicKey);
  if (raw === null) return fail("certificate publicKey is not ed25519:<base64 of 32 bytes>");
  if (!(await proofVerifies(cert, raw))) return fail("certificate proof does not verify");
  return { ok: true };
}

// Agents send the same certificate on every request: remember proofs that verified (the check
// is a pure function of key, payload and signature, so a hit is as good as a verify).
const verifiedProofs = new BoundedCache<true>(systemClock, Number.POSITIVE_INFINITY, 1024);

async function proofVerifies(cert: AgentCertificate, raw: Uint8Array): Promise<boolean> {
  const payload = certificateProofPayload(cert);
  const memo = `${cert.proof.sig}\n${payload}`;
  if (verifiedProofs.get(memo)) return true;
  const sig = fromBase64Url(cert.proof.sig);
  if (sig === null || !(await verifyEd25519(raw, sig, utf8Bytes(payload)))) return false;
  verifiedProofs.set(memo, true);
  return true;
}

/** A certificate header that passed every check of §3, and when it stops being valid. */
interface ProvenCertificate {
  cert: AgentCertificate;
  expiresAtMs: number | null;
}

// An agent sends the same header on every request, and every check but expiry is a pure function
// of it: a header that passed them all is remembered, so a repeat costs one lookup and a clock
// comparison instead of base64url, JSON, shape checks and the proof's memo key.
const provenHeaders = new BoundedCache<ProvenCertificate>(
  systemClock,
  Number.POSITIVE_INFINITY,
  1024,
);

export type CertificateHeaderCheck =
  | { ok: true; cert: AgentCertificate }
  | { ok: false; reason: string };

/**
 * The `sigilum-agent-cert` header decoded and checked (`decodeCertificate` + `verifyCertificate`,
 * same reasons in the same order). The certificate returned may be shared: do not modify it.
 */
export async function verifyCertificateHeader(
  header: string,
  nowMs: number,
): Promise<CertificateHeaderCheck> {
  const proven = provenHeaders.get(header);
  if (proven) {
    if (proven.expiresAtMs !== null && proven.expiresAtMs <= nowMs)
      return fail("certificate has expired");
    return { ok: true, cert: proven.cert };
  }
  const cert = decodeCertificate(header);
  if (cert === null) return fail("agent certificate is undecodable");
  const check = await verifyCertificate(cert, nowMs);
  if (!check.ok) return check;
  const expiresAtMs = cert.expiresAt === null ? null : Date.parse(cert.expiresAt);
  provenHeaders.set(header, { cert: Object.freeze(cert), expiresAtMs });
  return { ok: true, cert };
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Non-empty and free of line breaks, which could shift the proof's seven lines. */
function isLineSafeText(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && !/[\r\n]/.test(value);
}
