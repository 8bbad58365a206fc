/** The agent side: sign a request with the profile's headers (signing.md §1–§4). */
import { buildSignatureBase, expectedComponents, SIGNATURE_HEADERS } from "./base.ts";
import { createCertificate, encodeCertificate } from "./certificate.ts";
import { contentDigest } from "./digest.ts";
import { publicKeyFromSeed, randomSeed, signEd25519 } from "./ed25519.ts";
import { utf8Bytes } from "./encoding.ts";
import { didFor, isValidNamespace, keyIdFor, toCanonicalKey } from "./keys.ts";
import { formatSignature, formatSignatureParams } from "./parse.ts";
import { normalizeTargetUri } from "./targetUri.ts";

export interface SigningIdentity {
  namespace: string;
  /** The 32-byte Ed25519 seed (what identity files call `privateKey`). */
  privateKeySeed: Uint8Array;
  /** The encoded `sigilum-agent-cert` header value. */
  certificate: string;
  /** Canonical `ed25519:…`. */
  publicKey: string;
  keyId: string;
}

export interface GeneratedIdentity extends SigningIdentity {
  did: string;
  issuedAt: string;
}

export interface SignRequestOptions {
  method: string;
  url: string | URL;
  /** Other request headers; returned alongside the signing headers, which replace any clash. */
  headers?: Record<string, string>;
  body?: Uint8Array | string | null;
  identity: SigningIdentity;
  /** Defaults to a `sigilum-subject` in `headers`, then to the namespace (as the SDKs do). */
  subject?: string;
  agentId?: string;
  /** Unix seconds; defaults to now. */
  created?: number;
  /** Defaults to a random UUID. */
  nonce?: string;
}

const OWNED_HEADERS: ReadonlySet<string> = new Set(Object.values(SIGNATURE_HEADERS));

/** Returns every header of §1 (plus the caller's other headers), names lower-cased. */
export async function signRequest(options: SignRequestOptions): Promise<Record<string, string>> {
  const callerHeaders = lowerCaseKeys(options.headers ?? {});
  const body = typeof options.body === "string" ? utf8Bytes(options.body) : options.body;
  const hasBody = body != null && body.length > 0;
  const signed = signingHeaders(options, callerHeaders, hasBody ? contentDigest(body) : null);
  const components = expectedComponents({
    hasBody,
    hasAgentId: signed[SIGNATURE_HEADERS.agentId] !== undefined,
  });
  const params = formatSignatureParams({
    components,
    created: checkedCreated(options.created ?? Math.floor(Date.now() / 1000)),
    keyId: checkedToken("keyId", options.identity.keyId),
    nonce: checkedToken("nonce", options.nonce ?? crypto.randomUUID()),
  });
  const base = buildSignatureBase({
    method: options.method,
    targetUri: normalizeTargetUri(options.url),
    components,
    header: (name) => signed[name] ?? null,
    params,
  });
  if (base === null) throw new Error("signature base references a header that was not set");
  const signature = await signEd25519(options.identity.privateKeySeed, utf8Bytes(base));

  const others = Object.entries(callerHeaders).filter(([name]) => !OWNED_HEADERS.has(name));
  return {
    ...Object.fromEntries(others),
    ...signed,
    [SIGNATURE_HEADERS.signatureInput]: `sig1=${params}`,
    [SIGNATURE_HEADERS.signature]: formatSignature(signature),
  };
}

/** The covered headers other than the signature itself; agent id only when non-empty. */
function signingHeaders(
  options: SignRequestOptions,
  callerHeaders: Record<string, string>,
  digest: string | null,
): Record<string, string> {
  const { identity } = options;
  const subject = (
    options.subject ??
    callerHeaders[SIGNATURE_HEADERS.subject] ??
    identity.namespace
  ).trim();
  if (subject === "") throw new Error("sigilum-subject must not be empty");
  const agentId = (options.agentId ?? callerHeaders[SIGNATURE_HEADERS.agentId] ?? "").trim();
  return {
    ...(digest === null ? {} : { [SIGNATURE_HEADERS.contentDigest]: digest }),
    [SIGNATURE_HEADERS.namespace]: identity.namespace,
    [SIGNATURE_HEADERS.subject]: subject,
    ...(agentId === "" ? {} : { [SIGNATURE_HEADERS.agentId]: agentId }),
    [SIGNATURE_HEADERS.agentKey]: identity.publicKey,
    [SIGNATURE_HEADERS.agentCert]: identity.certificate,
  };
}

/** Refuse to emit a `signature-input` that our verifier (and the SDKs') would reject. */
function checkedCreated(created: number): number {
  if (!Number.isSafeInteger(created) || created <= 0)
    throw new Error("created must be a positive integer (unix seconds)");
  return created;
}

function checkedToken(name: string, value: string): string {
  if (value === "" || [...value].some(isForbiddenInQuotedParam))
    throw new Error(`${name} must be non-empty, without quotes or control characters`);
  return value;
}

function isForbiddenInQuotedParam(char: string): boolean {
  const code = char.charCodeAt(0);
  return char === '"' || code < 0x20 || code === 0x7f;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** A fresh agent identity: random seed (or the one given) and a self-signed certificate. */
export async function generateIdentity(
  namespace: string,
  nowMs: number,
  options: { seed?: Uint8Array; expiresAt?: string | null } = {},
): Promise<GeneratedIdentity> {
  if (!isValidNamespace(namespace)) throw new Error(`invalid namespace: ${namespace}`);
  const seed = options.seed ?? randomSeed();
  const raw = await publicKeyFromSeed(seed);
  const issuedAt = new Date(nowMs).toISOString();
  const certificate = await createCertificate({
    namespace,
    seed,
    issuedAt,
    expiresAt: options.expiresAt ?? null,
  });
  return {
    namespace,
    did: didFor(namespace),
    keyId: keyIdFor(namespace, raw),
    publicKey: toCanonicalKey(raw),
    privateKeySeed: seed,
    certificate: encodeCertificate(certificate),
    issuedAt,
  };
}
