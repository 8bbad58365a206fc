import { existingNamespace } from "../claims/index.ts";
import type { AppContext } from "../context.ts";
import { isForeignKeyViolation } from "../db/client.ts";
import { usageEvents } from "../db/schema.ts";
import { ApiError, unauthorized, validationError } from "../http/errors.ts";
import { formatIp, parseIp } from "../net/index.ts";
import { type AuthenticatedKey, requireSameService } from "../services/index.ts";
import { normalizeAgentKey } from "../signing/index.ts";
import type { UsageEventInput } from "./model.ts";

const DOTTED_QUAD = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** `203.0.113.9`, `203.0.113.9:4711`, `2001:db8::1` or `[2001:db8::1]:443` → the address alone. */
function parseRemoteIp(text: string): string | null {
  const withPort =
    /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text) ?? /^\[(.+)\]:\d{1,5}$/.exec(text);
  const address = withPort?.[1] ?? text;
  // Only dotted quads for IPv4: `127.1` or `2130706433` are more likely typos than addresses.
  if (!address.includes(":") && !DOTTED_QUAD.test(address)) return null;
  const ip = address.includes("/") ? null : parseIp(address);
  return ip ? formatIp(ip) : null;
}

/** The stored form of each field: trimmed, keys canonical, the method upper-cased. */
function normalizedEvent(body: UsageEventInput) {
  const publicKey = normalizeAgentKey(body.public_key.trim());
  if (!publicKey)
    throw validationError(
      "public_key",
      "must be ed25519:<base64 of 32 bytes>, did:key:z6Mk… or z6Mk…",
    );
  let remoteIp: string | null = null;
  if (body.remote_ip != null) {
    remoteIp = parseRemoteIp(body.remote_ip.trim());
    if (!remoteIp) throw validationError("remote_ip", "must be an IPv4 or IPv6 address");
  }
  return {
    eventId: body.event_id.trim(),
    namespace: body.namespace.trim().toLowerCase(),
    publicKey,
    subject: body.subject.trim(),
    agentId: body.agent_id?.trim() ?? null,
    protocol: body.protocol,
    action: body.action.trim(),
    outcome: body.outcome.trim(),
    statusCode: body.status_code ?? null,
    durationMs: body.duration_ms ?? null,
    responseBytes: body.response_bytes ?? null,
    requestMethod: body.request_method?.trim().toUpperCase() ?? null,
    requestPath: body.request_path?.trim() ?? null,
    remoteIp,
  };
}

export interface RecordOutcome {
  eventId: string;
  duplicate: boolean;
}

/**
 * POST /v1/usage/events after the API key (and any agent signature) has been verified. The
 * unique (service_id, event_id) index is the idempotency check, so a retry or a concurrent
 * duplicate, on any instance, inserts nothing and is answered as a duplicate.
 */
export async function recordUsageEvent(
  ctx: AppContext,
  apiKey: AuthenticatedKey,
  body: UsageEventInput,
): Promise<RecordOutcome> {
  const { service } = apiKey;
  requireSameService(service.slug, body.service);
  const event = normalizedEvent(body);
  const owner = await existingNamespace(ctx, event.namespace);
  try {
    const result = await ctx.database.db
      .insert(usageEvents)
      .values({
        ...event,
        ownerId: owner.id,
        serviceId: service.id,
        serviceSlug: service.slug,
        receivedAt: ctx.clock.now(),
      })
      .onConflictDoNothing({ target: [usageEvents.serviceId, usageEvents.eventId] });
    return { eventId: event.eventId, duplicate: result.rowsAffected === 0 };
  } catch (err) {
    if (isForeignKeyViolation(err)) throw await vanishedParent(ctx, event.namespace);
    throw err;
  }
}

/**
 * A cached owner or key can outlive its row by up to SIGILUM_CACHE_TTL when another instance
 * deleted it; the foreign keys refuse the insert, and the caller learns which one went.
 */
async function vanishedParent(ctx: AppContext, namespace: string): Promise<ApiError> {
  ctx.keyCache.clear();
  try {
    await existingNamespace(ctx, namespace);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  return unauthorized("Invalid, revoked or expired API key");
}
