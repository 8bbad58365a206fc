import { and, asc, desc, eq } from "drizzle-orm";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { countRows } from "../db/client.ts";
import {
  type ClaimStatus,
  claims,
  claimTransitions,
  namespacePolicies,
  type Owner,
} from "../db/schema.ts";
import { notFound } from "../http/errors.ts";
import type { Page } from "../http/pagination.ts";
import { normalizeSlug } from "../slugs.ts";
import { claimView } from "./view.ts";

/** Owners act only on their own namespace; anything else is 404 so existence does not leak. */
export function ownNamespace(owner: Owner, namespace: string): string {
  const ns = namespace.trim().toLowerCase();
  if (ns !== owner.namespace) throw notFound("Namespace");
  return ns;
}

export async function listNamespaceClaims(
  ctx: AppContext,
  owner: Owner,
  filters: { status?: ClaimStatus; service?: string },
  page: Page,
) {
  const where = and(
    eq(claims.ownerId, owner.id),
    filters.status ? eq(claims.status, filters.status) : undefined,
    filters.service ? eq(claims.serviceSlug, normalizeSlug("service", filters.service)) : undefined,
  );
  const rows = await ctx.database.db
    .select()
    .from(claims)
    .where(where)
    .orderBy(desc(claims.createdAt), desc(claims.id))
    .limit(page.limit)
    .offset(page.offset);
  const total = await countRows(ctx.database, claims, where);
  return { items: rows.map(claimView), total };
}

/** The owner's claim or 404. */
export async function findOwnedClaim(ctx: AppContext, owner: Owner, claimId: string) {
  const [row] = await ctx.database.db
    .select()
    .from(claims)
    .where(and(eq(claims.id, claimId), eq(claims.ownerId, owner.id)))
    .limit(1);
  if (!row) throw notFound("Claim");
  return row;
}

export async function claimHistory(ctx: AppContext, claimId: string) {
  const rows = await ctx.database.db
    .select()
    .from(claimTransitions)
    .where(eq(claimTransitions.claimId, claimId))
    .orderBy(asc(claimTransitions.id));
  return rows.map((r) => ({
    from: r.fromStatus,
    to: r.toStatus,
    at: toIso(r.at),
    actor: r.actor,
    reason: r.reason,
  }));
}

export async function getPolicy(ctx: AppContext, owner: Owner) {
  const [row] = await ctx.database.db
    .select()
    .from(namespacePolicies)
    .where(eq(namespacePolicies.ownerId, owner.id))
    .limit(1);
  return {
    namespace: owner.namespace,
    auto_approve_services: row ? (JSON.parse(row.autoApproveServices) as string[]) : [],
    updated_at: toIso(row?.updatedAt ?? null),
  };
}

/** Replaces the auto-approve list (slugs, lower-cased, de-duplicated; they need not exist yet). */
export async function putPolicy(ctx: AppContext, owner: Owner, slugs: string[]) {
  const list = [...new Set(slugs.map((s, i) => normalizeSlug(`auto_approve_services.${i}`, s)))];
  const now = ctx.clock.now();
  await ctx.database.db
    .insert(namespacePolicies)
    .values({ ownerId: owner.id, autoApproveServices: JSON.stringify(list), updatedAt: now })
    .onConflictDoUpdate({
      target: namespacePolicies.ownerId,
      set: { autoApproveServices: JSON.stringify(list), updatedAt: now },
    });
  return getPolicy(ctx, owner);
}
