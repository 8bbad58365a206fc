import { and, asc, desc, eq, inArray, or, sql } from "drizzle-orm";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { findOr404, pagedRows, writeBatch } from "../db/client.ts";
import {
  type ClaimStatus,
  claims,
  claimTransitions,
  namespacePolicies,
  namespacePolicyServices,
  type Owner,
  POLICY_KINDS,
  type PolicyKind,
  services,
} from "../db/schema.ts";
import { type ErrorDetail, validationErrors } from "../http/errors.ts";
import type { Page } from "../http/pagination.ts";
import { normalizeSlug } from "../slugs.ts";
import { claimView } from "./view.ts";

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
  const { rows, total } = await pagedRows(ctx.database, claims, {
    where,
    orderBy: [desc(claims.createdAt), desc(claims.id)],
    page,
  });
  return { items: rows.map(claimView), total };
}

/** The owner's claim or 404. */
export function findOwnedClaim(ctx: AppContext, owner: Owner, claimId: string) {
  const owned = and(eq(claims.id, claimId), eq(claims.ownerId, owner.id));
  return findOr404(ctx.database, claims, owned, "Claim");
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

type PolicyEntry = { id: string; slug: string };
export type PolicyLists = { auto_approve_services?: string[]; blocked_services?: string[] };

const LIST_OF: Record<PolicyKind, keyof PolicyLists> = {
  auto_approve: "auto_approve_services",
  blocked: "blocked_services",
};

/** The policy as the API shows it: `{id, slug}` per listed service, by slug. */
export async function getPolicy(ctx: AppContext, owner: Pick<Owner, "id" | "namespace">) {
  const db = ctx.database.db;
  const [row] = await db
    .select()
    .from(namespacePolicies)
    .where(eq(namespacePolicies.ownerId, owner.id))
    .limit(1);
  const entries = await db
    .select({ id: services.id, slug: services.slug, kind: namespacePolicyServices.kind })
    .from(namespacePolicyServices)
    .innerJoin(services, eq(services.id, namespacePolicyServices.serviceId))
    .where(eq(namespacePolicyServices.ownerId, owner.id))
    .orderBy(asc(services.slug));
  const listed = (kind: PolicyKind): PolicyEntry[] =>
    entries.filter((e) => e.kind === kind).map(({ id, slug }) => ({ id, slug }));
  return {
    namespace: owner.namespace,
    auto_approve_services: listed("auto_approve"),
    blocked_services: listed("blocked"),
    updated_at: toIso(row?.updatedAt ?? null),
  };
}

/**
 * Resolves the named lists' slugs to service ids now (http-api.md §5): an unknown slug is a 400,
 * so trust can never wait for whoever registers that slug later. Returns id → kind.
 */
async function resolvePolicy(ctx: AppContext, owner: Owner, lists: PolicyLists) {
  const named = POLICY_KINDS.flatMap((kind) =>
    (lists[LIST_OF[kind]] ?? []).map((raw, i) => {
      const field = `${LIST_OF[kind]}.${i}`;
      return { kind, field, slug: normalizeSlug(field, raw) };
    }),
  );
  const found = named.length
    ? await ctx.database.db
        .select({ id: services.id, slug: services.slug })
        .from(services)
        .where(inArray(services.slug, [...new Set(named.map((n) => n.slug))]))
    : [];
  const idOf = new Map(found.map((row) => [row.slug, row.id]));
  // What the lists left out hold now: a named service must not be in them as well.
  const current = await getPolicy(ctx, owner);
  const kept = new Map<string, PolicyKind>();
  for (const kind of POLICY_KINDS) {
    if (lists[LIST_OF[kind]] !== undefined) continue;
    for (const entry of current[LIST_OF[kind]]) kept.set(entry.id, kind);
  }
  const kinds = new Map<string, PolicyKind>();
  const details: ErrorDetail[] = [];
  for (const { kind, field, slug } of named) {
    const id = idOf.get(slug);
    const other = id && (kinds.get(id) ?? kept.get(id));
    if (!id) details.push({ field, message: `'${slug}' is not a registered service` });
    else if (other && other !== kind)
      details.push({ field, message: `'${slug}' is also in ${LIST_OF[other]}` });
    else kinds.set(id, kind);
  }
  if (details.length > 0) throw validationErrors(details);
  return kinds;
}

/**
 * Replaces the named lists of the namespace's policy in one batch; the lists left out keep their
 * rows (a concurrent write to them is not undone).
 */
export async function putPolicy(ctx: AppContext, owner: Owner, lists: PolicyLists) {
  const kinds = await resolvePolicy(ctx, owner, lists);
  const db = ctx.database.db;
  const now = ctx.clock.now();
  const replaced = POLICY_KINDS.filter((kind) => lists[LIST_OF[kind]] !== undefined);
  const idsOf = (kind: PolicyKind) => [...kinds].filter(([, k]) => k === kind).map(([id]) => id);
  await writeBatch(ctx.database, [
    db
      .insert(namespacePolicies)
      .values({ ownerId: owner.id, updatedAt: now })
      .onConflictDoUpdate({ target: namespacePolicies.ownerId, set: { updatedAt: now } }),
    // The replaced lists, and the named services wherever they were.
    db
      .delete(namespacePolicyServices)
      .where(
        and(
          eq(namespacePolicyServices.ownerId, owner.id),
          or(
            inArray(namespacePolicyServices.kind, replaced),
            inArray(namespacePolicyServices.serviceId, [...kinds.keys()]),
          ),
        ),
      ),
    // Inserted only while the service still exists: one deleted since it was resolved stays out.
    ...replaced
      .filter((kind) => idsOf(kind).length > 0)
      .map((kind) =>
        db.insert(namespacePolicyServices).select(
          db
            .select({
              ownerId: sql<string>`${owner.id}`.as("owner_id"),
              serviceId: services.id,
              kind: sql<PolicyKind>`${kind}`.as("kind"),
            })
            .from(services)
            .where(inArray(services.id, idsOf(kind))),
        ),
      ),
  ]);
  return getPolicy(ctx, owner);
}
