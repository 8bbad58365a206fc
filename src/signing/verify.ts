/**
 * Server-side verification, steps 1–9 of signing.md §5, in the spec's order (the order decides
 * which error a request with several faults gets, so keep it).
 *
 * Step 10 — recording the nonce, scoped to the namespace, and answering 409
 * SIGNATURE_NONCE_REPLAY — is the caller's job: the store is the database (a unique constraint),
 * so replay protection holds across processes, and it must run only after this returns ok.
 */
import { buildSignatureBase, SIGNATURE_HEADERS as H, isExpectedComponentList } from "./base.ts";
import { verifyCertificateHeader } from "./certificate.ts";
import { contentDigest } from "./digest.ts";
import { verifyEd25519 } from "./ed25519.ts";
import { utf8Bytes } from "./encoding.ts";
import { normalizeAgentKey, parseCanonicalKey } from "./keys.ts";
import type { SignatureInput } from "./parse.ts";
import { countListMembers, parseSignature, parseSignatureInput } from "./parse.ts";
import { normalizeTargetUri } from "./targetUri.ts";

export type SignatureErrorCode =
  | "SIGNATURE_MISSING"
  | "SIGNATURE_INVALID"
  | "SIGNATURE_EXPIRED"
  | "SIGNATURE_NAMESPACE_MISMATCH"
  | "SIGNATURE_KEY_MISMATCH"
  | "SIGNATURE_COMPONENTS_INVALID"
  | "SIGNATURE_DIGEST_MISMATCH";

export interface SignatureFailure {
  ok: false;
  status: 401 | 403;
  code: SignatureErrorCode;
  message: string;
}

/** What the handler learns about the caller once the signature verifies. */
export interface VerifiedAgent {
  namespace: string;
  subject: string;
  publicKey: string;
  keyId: string;
  agentId: string | null;
  nonce: string;
  created: number;
}

export type VerifyResult = { ok: true; identity: VerifiedAgent } | SignatureFailure;

export interface VerifyRequestInput {
  method: string;
  /** The URL the server rebuilt (`rebuildTargetUri`), not necessarily `request.url`. */
  targetUri: string;
  /** The same URL spelled as received (`rebuildReceivedTargetUri`), used verbatim: §4's fallback. */
  receivedTargetUri?: string | null;
  headers: Headers;
  /** The raw bytes received; zero length means "no body" (§2). */
  body: Uint8Array;
  /** Milliseconds since the epoch. */
  now: number;
  maxAgeSeconds?: number;
  maxSkewSeconds?: number;
  /** Route binding (step 6): namespace the route is about. */
  expectedNamespace?: string;
  /** Route binding (step 6): key the body names, any accepted form. */
  expectedKey?: string;
}

const REQUIRED_HEADERS = [
  H.signatureInput,
  H.signature,
  H.namespace,
  H.subject,
  H.agentKey,
  H.agentCert,
] as const;

type RequiredHeaders = Record<(typeof REQUIRED_HEADERS)[number], string>;

/**
 * A `Headers` object joins repeats with ", ". These values can never hold a comma (base64,
 * base64url, a namespace), so any comma is a repeat. `signature-input` may hold commas only
 * inside quoted strings, so a comma outside quotes is a repeat. `sigilum-subject` and
 * `sigilum-agent-id` are free text that may contain ", "; they are covered, so a repeat there
 * changes the signed value and fails at step 9 with the same SIGNATURE_INVALID.
 */
const COMMA_FREE_HEADERS = [H.signature, H.namespace, H.agentKey, H.agentCert] as const;

export async function verifySignedRequest(input: VerifyRequestInput): Promise<VerifyResult> {
  const headers = requiredHeaders(input.headers);
  if (!headers.ok) return headers;
  const parsed = parseSignatureHeaders(headers.value);
  if (!parsed.ok) return parsed;
  const { signatureInput, signature } = parsed;
  const agentId = input.headers.get(H.agentId)?.trim() || null;
  // `??` short-circuits: each later step runs only when every earlier one passed (§5 order).
  const failed =
    checkFreshness(signatureInput.created, input) ??
    (await checkCertificate(headers.value, signatureInput, input.now)) ??
    checkRouteBinding(headers.value, input) ??
    checkComponents(signatureInput.components, input.body, agentId) ??
    checkDigest(input.headers, input.body) ??
    (await checkSignature(input, headers.value, signatureInput, signature));
  if (failed) return failed;
  return {
    ok: true,
    identity: {
      namespace: headers.value[H.namespace],
      subject: headers.value[H.subject],
      publicKey: headers.value[H.agentKey],
      keyId: signatureInput.keyId,
      agentId,
      nonce: signatureInput.nonce,
      created: signatureInput.created,
    },
  };
}

/** Step 1: presence (trimmed, non-empty), then repeats. */
function requiredHeaders(
  headers: Headers,
): { ok: true; value: RequiredHeaders } | SignatureFailure {
  // No prototype: step 9 looks component names up here, and none may resolve to an inherited key.
  const value = Object.create(null) as RequiredHeaders;
  for (const name of REQUIRED_HEADERS) {
    const text = headers.get(name)?.trim();
    if (!text) return failure(401, "SIGNATURE_MISSING", `missing ${name} header`);
    value[name] = text;
  }
  const repeated =
    countListMembers(value[H.signatureInput]) > 1
      ? H.signatureInput
      : COMMA_FREE_HEADERS.find((name) => value[name].includes(","));
  if (repeated) return failure(401, "SIGNATURE_INVALID", `duplicated ${repeated} header`);
  return { ok: true, value };
}

/** Step 2. */
function parseSignatureHeaders(
  headers: RequiredHeaders,
): { ok: true; signatureInput: SignatureInput; signature: Uint8Array } | SignatureFailure {
  const signatureInput = parseSignatureInput(headers[H.signatureInput]);
  if (!signatureInput.ok) return failure(401, "SIGNATURE_INVALID", signatureInput.reason);
  const signature = parseSignature(headers[H.signature]);
  if (!signature.ok) return failure(401, "SIGNATURE_INVALID", signature.reason);
  return { ok: true, signatureInput: signatureInput.value, signature: signature.value };
}

/** Step 3, in whole seconds as unix clocks count them. */
function checkFreshness(created: number, input: VerifyRequestInput): SignatureFailure | null {
  const nowSeconds = Math.floor(input.now / 1000);
  const maxAge = input.maxAgeSeconds ?? 300;
  const maxSkew = input.maxSkewSeconds ?? 30;
  if (nowSeconds - created > maxAge)
    return failure(401, "SIGNATURE_EXPIRED", `signature is older than ${maxAge} s`);
  if (created - nowSeconds > maxSkew)
    return failure(401, "SIGNATURE_EXPIRED", `signature is more than ${maxSkew} s in the future`);
  return null;
}

/** Steps 4 and 5: the certificate verifies and names exactly the headers' key, namespace, keyid. */
async function checkCertificate(
  headers: RequiredHeaders,
  signatureInput: SignatureInput,
  now: number,
): Promise<SignatureFailure | null> {
  const check = await verifyCertificateHeader(headers[H.agentCert], now);
  if (!check.ok) return failure(401, "SIGNATURE_INVALID", check.reason);
  const { cert } = check;
  if (cert.publicKey !== headers[H.agentKey])
    return failure(
      401,
      "SIGNATURE_INVALID",
      "certificate publicKey differs from sigilum-agent-key",
    );
  if (cert.namespace !== headers[H.namespace])
    return failure(
      401,
      "SIGNATURE_INVALID",
      "certificate namespace differs from sigilum-namespace",
    );
  if (cert.keyId !== signatureInput.keyId)
    return failure(401, "SIGNATURE_INVALID", "certificate keyId differs from the keyid parameter");
  return null;
}

/** Step 6: the route's own namespace / key must be the signer's. */
function checkRouteBinding(
  headers: RequiredHeaders,
  input: VerifyRequestInput,
): SignatureFailure | null {
  const namespace = headers[H.namespace];
  if (input.expectedNamespace !== undefined && input.expectedNamespace !== namespace)
    return failure(403, "SIGNATURE_NAMESPACE_MISMATCH", "signed for a different namespace");
  if (input.expectedKey === undefined) return null;
  const expectedKey = normalizeAgentKey(input.expectedKey) ?? input.expectedKey;
  if (expectedKey !== headers[H.agentKey])
    return failure(403, "SIGNATURE_KEY_MISMATCH", "signed with a different key");
  return null;
}

/** Step 7: exactly one of the four lists of §2, chosen by what was actually received. */
function checkComponents(
  components: readonly string[],
  body: Uint8Array,
  agentId: string | null,
): SignatureFailure | null {
  const shape = { hasBody: body.length > 0, hasAgentId: agentId !== null };
  return isExpectedComponentList(components, shape)
    ? null
    : failure(401, "SIGNATURE_COMPONENTS_INVALID", "covered components are not the profile's list");
}

/** Step 8: exact string comparison with the digest of the raw bytes received. */
function checkDigest(headers: Headers, body: Uint8Array): SignatureFailure | null {
  if (body.length === 0 || headers.get(H.contentDigest)?.trim() === contentDigest(body))
    return null;
  return failure(401, "SIGNATURE_DIGEST_MISMATCH", "content-digest does not match the body");
}

/**
 * Step 9: rebuild the base from what was received and check the Ed25519 signature — over the
 * WHATWG form, then (§4) only if that fails, over the URL as received.
 */
async function checkSignature(
  input: VerifyRequestInput,
  headers: RequiredHeaders,
  signatureInput: SignatureInput,
  signature: Uint8Array,
): Promise<SignatureFailure | null> {
  const publicKey = parseCanonicalKey(headers[H.agentKey]);
  const verifiesOver = async (targetUri: string | null) => {
    if (targetUri === null || publicKey === null) return false;
    const base = buildSignatureBase({
      method: input.method,
      targetUri,
      components: signatureInput.components,
      // Step 1 already read (and trimmed) the required headers; the base trims values too.
      header: (name) =>
        (headers as Partial<Record<string, string>>)[name] ?? input.headers.get(name),
      params: signatureInput.params,
    });
    return base !== null && verifyEd25519(publicKey, signature, utf8Bytes(base));
  };
  const valid =
    (await verifiesOver(safeTargetUri(input.targetUri))) ||
    (await verifiesOver(input.receivedTargetUri ?? null));
  return valid ? null : failure(401, "SIGNATURE_INVALID", "signature does not verify");
}

function safeTargetUri(targetUri: string): string | null {
  try {
    return normalizeTargetUri(targetUri);
  } catch {
    return null;
  }
}

function failure(status: 401 | 403, code: SignatureErrorCode, message: string): SignatureFailure {
  return { ok: false, status, code, message };
}
