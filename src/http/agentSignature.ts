import { BoundedCache } from "../cache.ts";
import { systemClock } from "../clock.ts";
import type { AppContext } from "../context.ts";
import {
  rebuildReceivedTargetUri,
  rebuildTargetUri,
  SIGNATURE_HEADERS,
  type TargetUriSource,
  type VerifiedAgent,
  verifySignedRequest,
} from "../signing/index.ts";
import { metaOf } from "./context.ts";
import { ApiError, conflict, serviceUnavailable } from "./errors.ts";

export interface SignatureBinding {
  /** The namespace the route is about (query, path or body). */
  expectedNamespace?: string;
  /** The key the body names (claims), unless namespace-only binding applies. */
  expectedKey?: string;
}

/** The profile's headers (signing.md §1) but content-digest, which is plain HTTP on its own. */
const PRESENTED_SIGNATURE_HEADERS = Object.values(SIGNATURE_HEADERS).filter(
  (name) => name !== SIGNATURE_HEADERS.contentDigest,
);

/**
 * Any one of signature-input, signature or a sigilum-* profile header means the request presents
 * an agent signature, so a partial set is a 401 SIGNATURE_MISSING rather than silently ignored.
 */
function hasAgentSignature(request: Request): boolean {
  return PRESENTED_SIGNATURE_HEADERS.some((name) => request.headers.has(name));
}

/** The URL a signature is checked against, in the WHATWG form and (§4's fallback) as received. */
interface TargetUris {
  targetUri: string;
  receivedTargetUri: string | null;
}

// Rebuilding both spellings parses the URL four times; they are a pure function of the request
// URL, the headers read below and the two settings, and agents call the same URLs over and over.
const targetUriMemo = new BoundedCache<TargetUris>(systemClock, Number.POSITIVE_INFINITY, 1024);

function targetUrisOf(ctx: AppContext, request: Request): TargetUris {
  const { publicUrl, trustProxy } = ctx.config;
  const { headers } = request;
  // Everything rebuildTargetUri / rebuildReceivedTargetUri read; the forwarded headers only count
  // behind a trusted proxy.
  const forwarded = trustProxy
    ? `\n${headers.get("x-forwarded-host") ?? ""}\n${headers.get("x-forwarded-proto") ?? ""}`
    : "";
  const key = `${publicUrl?.href ?? ""}\n${request.url}\n${headers.get("host") ?? ""}${forwarded}`;
  const known = targetUriMemo.get(key);
  if (known) return known;
  const source: TargetUriSource = { requestUrl: request.url, publicUrl, trustProxy, headers };
  const targetUri = rebuildTargetUri(source);
  const uris = { targetUri, receivedTargetUri: rebuildReceivedTargetUri(source, targetUri) };
  targetUriMemo.set(key, uris);
  return uris;
}

/** Step 10 of signing.md §5: a replay is 409; a store that cannot be written fails closed (503). */
async function recordNonce(ctx: AppContext, agent: VerifiedAgent): Promise<void> {
  let fresh: boolean;
  try {
    fresh = await ctx.signatureNonces.record(agent.namespace, agent.nonce);
  } catch (err) {
    throw serviceUnavailable("Cannot record the signature nonce; retry shortly", err);
  }
  if (!fresh) throw conflict("SIGNATURE_NONCE_REPLAY", "This signature nonce was already used");
}

/**
 * Verifies the agent signature of a request (signing.md §5) against the raw body read by the
 * body parser and the URL rebuilt from SIGILUM_PUBLIC_URL / trusted proxy headers (or, as §4's
 * fallback, that URL spelled as received), then records the nonce. Returns the verified identity
 * or throws the spec's error.
 */
export async function verifyAgentRequest(
  ctx: AppContext,
  request: Request,
  binding: SignatureBinding = {},
): Promise<VerifiedAgent> {
  const { targetUri, receivedTargetUri } = targetUrisOf(ctx, request);
  const result = await verifySignedRequest({
    method: request.method,
    targetUri,
    receivedTargetUri,
    headers: request.headers,
    body: metaOf(request).rawBody ?? new Uint8Array(),
    now: ctx.clock.now(),
    maxAgeSeconds: ctx.config.signatureMaxAge / 1000,
    maxSkewSeconds: ctx.config.signatureMaxSkew / 1000,
    ...binding,
  });
  if (!result.ok) {
    ctx.metrics.signatureFailures.inc({ code: result.code });
    throw new ApiError(result.status, result.code, result.message);
  }
  await recordNonce(ctx, result.identity);
  return result.identity;
}

/**
 * http-api.md §5: signature headers are verified whenever present, even next to an API key (a
 * present but bad signature is never silently ignored). Null when the request presents none.
 */
export function verifyPresentedSignature(
  ctx: AppContext,
  request: Request,
  binding: SignatureBinding = {},
): Promise<VerifiedAgent | null> {
  return hasAgentSignature(request)
    ? verifyAgentRequest(ctx, request, binding)
    : Promise.resolve(null);
}
