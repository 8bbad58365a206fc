import type { AppContext } from "../context.ts";
import { forbidden, unauthorized } from "../http/errors.ts";
import { type AuthenticatedKey, authenticateApiKey } from "./apiKeys.ts";

const API_KEY_BEARER = /^Bearer\s+(sgl_sk_\S+)\s*$/i;

export function presentsApiKey(request: Request): boolean {
  return API_KEY_BEARER.test(request.headers.get("authorization") ?? "");
}

/**
 * The service behind `Authorization: Bearer sgl_sk_…`, rate limited per key; else 401. Routes
 * that pass their own `bucket` are counted apart from the others.
 */
export async function requireApiKey(
  ctx: AppContext,
  request: Request,
  perMinute: number,
  bucket = "key",
): Promise<AuthenticatedKey> {
  const m = API_KEY_BEARER.exec(request.headers.get("authorization") ?? "");
  if (!m) throw unauthorized("A service API key is required: Authorization: Bearer sgl_sk_…");
  const found = await authenticateApiKey(ctx, m[1]!);
  if (!found) throw unauthorized("Invalid, revoked or expired API key");
  ctx.limiter.hit(`${bucket}:${found.key.id}`, perMinute);
  return found;
}

/** A `service` named by a service-facing request must be the API key's own service. */
export function requireSameService(keyServiceSlug: string, named: string | undefined): void {
  if (named !== undefined && named.trim().toLowerCase() !== keyServiceSlug) {
    throw forbidden("SERVICE_MISMATCH", "`service` must be the slug of the API key's service");
  }
}
