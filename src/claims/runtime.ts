import { and, desc, eq, gt, inArray, max, type SQL, sql } from "drizzle-orm";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { sha256Hex } from "../crypto.ts";
import { countRows } from "../db/client.ts";
import { type ClaimRow, claims, owners } from "../db/schema.ts";
import { ApiError, validationError } from "../http/errors.ts";
import type { Page } from "../http/pagination.ts";
import { normalizeAgentKey } from "../signing/index.ts";
import { type VerifyAnswer, VerifyCache } from "./verifyCache.ts";
import { agentKeyOf } from "./view.ts";

const REASONS: Record<VerifyAnswer["status"], string | null> = {
  approved: null,
  pending: "Authorization pending approval",
  rejected: "Authorization rejected",
  revoked: "Authorization revoked",
  expired: "Authorization request expired",
  none: "No approved authorization found",
};

export function canonicalKeyParam(field: string, value: string): string {
  const key = normalizeAgentKey(value.trim());
  if (!key)
    throw validationError(field, "must be ed25519:<base64 of 32 bytes>, did:key:z6Mk… or z6Mk…");
  return key;
}

async function lookupAnswer(
  ctx: AppContext,
  serviceId: string,
  namespace: string,
  publicKey: string,
): Promise<VerifyAnswer> {
  const [row] = await ctx.database.db
    .select({ id: claims.id, status: claims.status, approvedAt: claims.approvedAt })
    .from(claims)
    .where(
      and(
        eq(claims.serviceId, serviceId),
        eq(claims.namespace, namespace),
        eq(claims.publicKey, publicKey),
      ),
    )
    .orderBy(sql`${claims.status} = 'approved' DESC`, desc(claims.createdAt))
    .limit(1);
  if (!row) return { authorized: false, status: "none", claimId: null, approvedAt: null };
  return {
    authorized: row.status === "approved",
    status: row.status,
    claimId: row.id,
    approvedAt: row.approvedAt,
  };
}

/** The verify answer, from memory when possible (claim changes in this process evict it at once). */
export async function verifyAuthorization(
  ctx: AppContext,
  serviceId: string,
  namespace: string,
  publicKey: string,
) {
  const key = VerifyCache.key(serviceId, namespace, publicKey);
  let answer = ctx.verifyCache.get(key);
  if (!answer) {
    answer = await lookupAnswer(ctx, serviceId, namespace, publicKey);
    ctx.verifyCache.set(key, answer);
  }
  return answer.authorized
    ? {
        authorized: true,
        claim_id: answer.claimId,
        approved_at: toIso(answer.approvedAt),
        status: "approved",
      }
    : { authorized: false, status: answer.status, reason: REASONS[answer.status] };
}

// ---- the approved-claims feed ----

const CURSOR_RE = /^cur_(\d{1,15})$/;

export function cursorOf(seq: number): string {
  return `cur_${seq}`;
}

/** `updated_since` is the previous `cursor` or an ISO timestamp. */
function sinceFilter(updatedSince: string | undefined): SQL | undefined {
  if (updatedSince === undefined) return undefined;
  const cursor = CURSOR_RE.exec(updatedSince);
  if (cursor) return gt(claims.changeSeq, Number(cursor[1]));
  const ms = Date.parse(updatedSince);
  if (Number.isNaN(ms))
    throw validationError(
      "updated_since",
      "must be a cursor from a previous response or an ISO 8601 timestamp",
    );
  return gt(claims.updatedAt, ms);
}

function feedItem(row: ClaimRow) {
  if (row.status === "revoked")
    return { claim_id: row.id, status: "revoked" as const, revoked_at: toIso(row.revokedAt) };
  return {
    claim_id: row.id,
    namespace: row.namespace,
    service: row.serviceSlug,
    public_key: row.publicKey,
    agent_key: agentKeyOf(row.publicKey),
    subject: row.subject,
    agent_id: row.agentId,
    agent_name: row.agentName,
    status: "approved" as const,
    approved_at: toIso(row.approvedAt),
    updated_at: toIso(row.updatedAt),
  };
}

/** The newest change of the service's claims: the feed's version for ETags. */
export async function feedVersion(ctx: AppContext, serviceId: string): Promise<number> {
  const [row] = await ctx.database.db
    .select({ seq: max(claims.changeSeq) })
    .from(claims)
    .where(eq(claims.serviceId, serviceId));
  return row?.seq ?? 0;
}

export function feedEtag(
  serviceId: string,
  version: number,
  query: Record<string, unknown>,
): string {
  return `W/"${sha256Hex(`${serviceId}|${version}|${JSON.stringify(query)}`).slice(0, 32)}"`;
}

/**
 * Without `updated_since`: the service's approved claims. With it: every claim of the service that
 * changed since, approved ones in full and revoked ones as tombstones, in commit order.
 */
export async function approvedClaimsFeed(
  ctx: AppContext,
  serviceId: string,
  updatedSince: string | undefined,
  page: Page,
) {
  const since = sinceFilter(updatedSince);
  const statuses: ClaimRow["status"][] = since ? ["approved", "revoked"] : ["approved"];
  const where = and(eq(claims.serviceId, serviceId), inArray(claims.status, statuses), since);
  const rows = await ctx.database.db
    .select()
    .from(claims)
    .where(where)
    .orderBy(claims.changeSeq)
    .limit(page.limit)
    .offset(page.offset);
  const total = await countRows(ctx.database, claims, where);
  const lastSeq = rows.at(-1)?.changeSeq;
  const given = updatedSince ? CURSOR_RE.exec(updatedSince)?.[1] : undefined;
  const cursor = cursorOf(
    lastSeq ?? (given !== undefined ? Number(given) : await feedVersion(ctx, serviceId)),
  );
  return { items: rows.map(feedItem), total, cursor };
}

/** GET /v1/namespaces/{namespace}: public facts only, never the owner's id or email. */
export async function namespaceInfo(ctx: AppContext, namespace: string) {
  const ns = namespace.trim().toLowerCase();
  const [owner] = await ctx.database.db
    .select()
    .from(owners)
    .where(eq(owners.namespace, ns))
    .limit(1);
  if (!owner) throw new ApiError(404, "NAMESPACE_NOT_FOUND", `Namespace '${ns}' does not exist`);
  const active = await countRows(
    ctx.database,
    claims,
    and(
      eq(claims.ownerId, owner.id),
      eq(claims.status, "approved"),
      sql`${claims.serviceId} IS NOT NULL`,
    ),
  );
  return {
    did: `did:sigilum:${owner.namespace}`,
    namespace: owner.namespace,
    created_at: toIso(owner.createdAt),
    active: true,
    active_claims: active,
  };
}
