import type { AppContext } from "../context.ts";
import { rebuildTargetUri, type VerifiedAgent, verifySignedRequest } from "../signing/index.ts";
import { metaOf } from "./context.ts";
import { ApiError } from "./errors.ts";

export interface SignatureBinding {
  /** The namespace the route is about (query, path or body). */
  expectedNamespace?: string;
  /** The key the body names (claims), unless namespace-only binding applies. */
  expectedKey?: string;
}

export function hasAgentSignature(request: Request): boolean {
  return request.headers.has("signature-input") || request.headers.has("signature");
}

/** Step 10 of signing.md §5: a replay is 409; a store that cannot be written fails closed (503). */
async function recordNonce(ctx: AppContext, agent: VerifiedAgent): Promise<void> {
  let fresh: boolean;
  try {
    fresh = await ctx.signatureNonces.record(agent.namespace, agent.nonce);
  } catch {
    throw new ApiError(
      503,
      "SERVICE_UNAVAILABLE",
      "Cannot record the signature nonce; retry shortly",
      undefined,
      {
        "retry-after": "1",
      },
    );
  }
  if (!fresh)
    throw new ApiError(409, "SIGNATURE_NONCE_REPLAY", "This signature nonce was already used");
}

/**
 * Verifies the agent signature of a request (signing.md §5) against the raw body read by the
 * body parser and the URL rebuilt from SIGILUM_PUBLIC_URL / trusted proxy headers, then records
 * the nonce. Returns the verified identity or throws the spec's error.
 */
export async function verifyAgentRequest(
  ctx: AppContext,
  request: Request,
  binding: SignatureBinding = {},
): Promise<VerifiedAgent> {
  const targetUri = rebuildTargetUri({
    requestUrl: request.url,
    publicUrl: ctx.config.publicUrl,
    trustProxy: ctx.config.trustProxy,
    headers: request.headers,
  });
  const result = await verifySignedRequest({
    method: request.method,
    targetUri,
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
