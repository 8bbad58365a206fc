import { and, desc, eq, gt, inArray, max, sql } from "drizzle-orm";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { sha256Hex } from "../crypto.ts";
import { countRows } from "../db/client.ts";
import { type ClaimRow, type ClaimStatus, claims, feedTombstones } from "../db/schema.ts";
import { validationError } from "../http/errors.ts";
import type { Page } from "../http/pagination.ts";
import { didFor, normalizeAgentKey } from "../signing/index.ts";
import { agentClaims, existingNamespace } from "./submit.ts";
import { type VerifyAnswer, VerifyCache } from "./verifyCache.ts";
import { agentKeyOf } from "./view.ts";

const REASONS: Record<Exclude<ClaimStatus, "approved"> | "none", string> = {
  pending: "Authorization pending approval",
  rejected: "Authorization rejected",
  revoked: "Authorization revoked",
  expired: "Authorization request expired",
  none: "No approved authorization found",
};

/** The answer when the agent holds no claim for the service at all. */
export const NO_AUTHORIZATION: VerifyAnswer = Object.freeze({
  authorized: false as const,
  status: "none" as const,
  reason: REASONS.none,
});

export function canonicalKeyParam(ctx: AppContext, field: string, value: string): string {
  const { canonicalKeys } = ctx.verifyCache;
  const known = canonicalKeys.get(value);
  if (known) return known;
  // An unencoded `+` of base64 arrives as a space in a query string; base64 has no spaces.
  const key = normalizeAgentKey(value.replaceAll(" ", "+").trim());
  if (key) canonicalKeys.set(value, key);
  if (!key)
    throw validationError(field, "must be ed25519:<base64 of 32 bytes>, did:key:z6Mk… or z6Mk…");
  return key;
}

/** The answer for the claim verify reports (approved first, else the newest), ready to send. */
function answerFor(row: Pick<ClaimRow, "id" | "status" | "approvedAt"> | undefined): VerifyAnswer {
  if (!row) return NO_AUTHORIZATION;
  if (row.status === "approved")
    return Object.freeze({
      authorized: true as const,
      claim_id: row.id,
      approved_at: toIso(row.approvedAt),
      status: "approved" as const,
    });
  return Object.freeze({
    authorized: false as const,
    status: row.status,
    reason: REASONS[row.status],
  });
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
    .where(agentClaims(serviceId, namespace, publicKey))
    .orderBy(sql`${claims.status} = 'approved' DESC`, desc(claims.createdAt))
    .limit(1);
  return answerFor(row);
}

/**
 * The verify answer, from memory when possible (claim changes in this process evict it at once).
 * Cached in its final form, so a hit costs one lookup and no formatting.
 */
export function verifyAuthorization(
  ctx: AppContext,
  serviceId: string,
  namespace: string,
  publicKey: string,
): Promise<VerifyAnswer> {
  const key = VerifyCache.key(serviceId, namespace, publicKey);
  return ctx.verifyCache.load(key, () => lookupAnswer(ctx, serviceId, namespace, publicKey));
}

// ---- the approved-claims feed ----

const CURSOR_RE = /^cur_(\d{1,15})$/;

export function cursorOf(seq: number): string {
  return `cur_${seq}`;
}

type Since = { seq: number } | { ms: number } | null;

/** `updated_since` is the previous `cursor` or an ISO timestamp. */
function parseSince(updatedSince: string | undefined): Since {
  if (updatedSince === undefined) return null;
  const cursor = CURSOR_RE.exec(updatedSince);
  if (cursor) return { seq: Number(cursor[1]) };
  const ms = Date.parse(updatedSince);
  if (Number.isNaN(ms)) {
    throw validationError(
      "updated_since",
      "must be a cursor from a previous response or an ISO 8601 timestamp",
    );
  }
  return { ms };
}

function feedItem(row: ClaimRow) {
  if (row.status === "revoked") return tombstone(row.id, row.revokedAt);
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

function tombstone(claimId: string, at: number | null) {
  return { claim_id: claimId, status: "revoked" as const, revoked_at: toIso(at) };
}

/** The newest change of the service's feed (claims and tombstones): its version for ETags. */
export async function feedVersion(ctx: AppContext, serviceId: string): Promise<number> {
  const [claimMax] = await ctx.database.db
    .select({ seq: max(claims.changeSeq) })
    .from(claims)
    .where(eq(claims.serviceId, serviceId));
  const [tombMax] = await ctx.database.db
    .select({ seq: max(feedTombstones.changeSeq) })
    .from(feedTombstones)
    .where(eq(feedTombstones.serviceId, serviceId));
  return Math.max(claimMax?.seq ?? 0, tombMax?.seq ?? 0);
}

export function feedEtag(
  serviceId: string,
  version: number,
  query: Record<string, unknown>,
): string {
  return `W/"${sha256Hex(`${serviceId}|${version}|${JSON.stringify(query)}`).slice(0, 32)}"`;
}

function claimsWhere(serviceId: string, since: Since) {
  if (!since) return and(eq(claims.serviceId, serviceId), eq(claims.status, "approved"));
  const after = "seq" in since ? gt(claims.changeSeq, since.seq) : gt(claims.updatedAt, since.ms);
  return and(
    eq(claims.serviceId, serviceId),
    inArray(claims.status, ["approved", "revoked"]),
    after,
  );
}

function tombstonesWhere(serviceId: string, since: NonNullable<Since>) {
  const after =
    "seq" in since
      ? gt(feedTombstones.changeSeq, since.seq)
      : gt(feedTombstones.removedAt, since.ms);
  return and(eq(feedTombstones.serviceId, serviceId), after);
}

/**
 * Without `updated_since`: the service's approved claims. With it: every change since, in
 * commit order — approved claims in full, revoked ones and claims removed with their account as
 * tombstones — so a cache can follow the feed by passing back `cursor`.
 */
export async function approvedClaimsFeed(
  ctx: AppContext,
  serviceId: string,
  updatedSince: string | undefined,
  page: Page,
) {
  const since = parseSince(updatedSince);
  const take = page.offset + page.limit;
  const db = ctx.database.db;
  const changed = await db
    .select()
    .from(claims)
    .where(claimsWhere(serviceId, since))
    .orderBy(claims.changeSeq)
    .limit(take);
  const removed = since
    ? await db
        .select()
        .from(feedTombstones)
        .where(tombstonesWhere(serviceId, since))
        .orderBy(feedTombstones.changeSeq)
        .limit(take)
    : [];
  const entries = [
    ...changed.map((row) => ({ seq: row.changeSeq, item: feedItem(row) })),
    ...removed.map((row) => ({ seq: row.changeSeq, item: tombstone(row.claimId, row.removedAt) })),
  ]
    .sort((a, b) => a.seq - b.seq)
    .slice(page.offset, take);
  const total =
    (await countRows(ctx.database, claims, claimsWhere(serviceId, since))) +
    (since ? await countRows(ctx.database, feedTombstones, tombstonesWhere(serviceId, since)) : 0);
  const lastSeq = entries.at(-1)?.seq;
  const givenSeq = since && "seq" in since ? since.seq : undefined;
  const cursor = cursorOf(lastSeq ?? givenSeq ?? (await feedVersion(ctx, serviceId)));
  return { items: entries.map((e) => e.item), total, cursor };
}

/** GET /v1/namespaces/{namespace}: public facts only, never the owner's id or email. */
export async function namespaceInfo(ctx: AppContext, namespace: string) {
  const ns = namespace.trim().toLowerCase();
  const owner = await existingNamespace(ctx, ns);
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
    did: didFor(owner.namespace),
    namespace: owner.namespace,
    created_at: toIso(owner.createdAt),
    active: true,
    active_claims: active,
  };
}
