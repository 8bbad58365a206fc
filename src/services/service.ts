import { and, desc, eq, getTableColumns, sql } from "drizzle-orm";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { findOr404, isUniqueViolation, pagedRows, writeBatch } from "../db/client.ts";
import { serviceErasure } from "../db/erasure.ts";
import { type ServiceRow, services } from "../db/schema.ts";
import { insertWhere } from "../db/writes.ts";
import { conflict, limitReached, notFound } from "../http/errors.ts";
import type { Page } from "../http/pagination.ts";
import { isUuid, newId } from "../ids.ts";
import { normalizeSlug } from "../slugs.ts";
import type { Service } from "./model.ts";

type ServiceWithCounts = ServiceRow & { activeKeyCount: number; webhookCount: number };

// Written out with table names: drizzle renders bare column names inside a single-table select.
function columnsWithCounts(now: number) {
  return {
    ...getTableColumns(services),
    activeKeyCount: sql<number>`(SELECT count(*) FROM api_keys k WHERE k.service_id = services.id
      AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ${now}))`,
    webhookCount: sql<number>`(SELECT count(*) FROM webhooks w WHERE w.service_id = services.id)`,
  };
}

export function serviceView(s: ServiceWithCounts): Service {
  return {
    id: s.id,
    slug: s.slug,
    name: s.name,
    description: s.description,
    created_at: toIso(s.createdAt),
    updated_at: toIso(s.updatedAt),
    active_key_count: Number(s.activeKeyCount),
    webhook_count: Number(s.webhookCount),
  };
}

function ownedBy(ownerId: string, serviceId: string) {
  return and(eq(services.id, serviceId), eq(services.ownerId, ownerId));
}

/** The owner's service or 404 — also for ids that are not UUIDs or belong to someone else. */
export async function findOwnedService(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
): Promise<ServiceWithCounts> {
  if (!isUuid(serviceId)) throw notFound("Service");
  return findOr404(
    ctx.database,
    services,
    ownedBy(ownerId, serviceId),
    "Service",
    columnsWithCounts(ctx.clock.now()),
  );
}

/** Any owner's service by its (globally unique) slug; cached like API keys (verify's hot path). */
export async function findServiceBySlug(ctx: AppContext, slug: string): Promise<ServiceRow | null> {
  const row = await ctx.keyCache.servicesBySlug.load(slug, async () => {
    const [found] = await ctx.database.db
      .select()
      .from(services)
      .where(eq(services.slug, slug))
      .limit(1);
    return found;
  });
  return row ?? null;
}

export async function listServices(ctx: AppContext, ownerId: string, page: Page) {
  return pagedRows(ctx.database, services, {
    columns: columnsWithCounts(ctx.clock.now()),
    where: eq(services.ownerId, ownerId),
    orderBy: [desc(services.createdAt), desc(services.id)],
    page,
  });
}

export async function createService(
  ctx: AppContext,
  ownerId: string,
  input: { slug: string; name: string; description?: string | null },
): Promise<ServiceWithCounts> {
  const now = ctx.clock.now();
  const row: ServiceRow = {
    id: newId.service(),
    ownerId,
    slug: normalizeSlug("slug", input.slug),
    name: input.name.trim(),
    description: input.description?.trim() || null,
    createdAt: now,
    updatedAt: now,
  };
  let inserted: number;
  try {
    // One statement: the per-owner limit cannot be raced past by concurrent creates.
    const rs = await ctx.database.db.run(
      insertWhere(
        services,
        row,
        sql`(SELECT count(*) FROM ${services} WHERE ${services.ownerId} = ${ownerId}) < ${ctx.config.maxServicesPerOwner}`,
      ),
    );
    inserted = rs.rowsAffected;
  } catch (err) {
    if (isUniqueViolation(err, "services.slug")) {
      throw conflict("SLUG_TAKEN", `Service slug '${row.slug}' is already taken`);
    }
    throw err;
  }
  if (inserted === 0) {
    throw limitReached(`At most ${ctx.config.maxServicesPerOwner} services per owner`);
  }
  return { ...row, activeKeyCount: 0, webhookCount: 0 };
}

export async function updateService(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  input: { name?: string; description?: string | null },
): Promise<ServiceWithCounts> {
  await findOwnedService(ctx, ownerId, serviceId);
  const patch: Partial<ServiceRow> = { updatedAt: ctx.clock.now() };
  if (input.name !== undefined) patch.name = input.name.trim();
  if (input.description !== undefined) patch.description = input.description?.trim() || null;
  await ctx.database.db.update(services).set(patch).where(ownedBy(ownerId, serviceId));
  return findOwnedService(ctx, ownerId, serviceId);
}

/**
 * Deletes the service in one transaction, with what every feature keeps for it (ctx.erasures):
 * keys, webhooks and policy entries go; claims and usage events stay, orphaned.
 */
export async function deleteService(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
): Promise<void> {
  await findOwnedService(ctx, ownerId, serviceId);
  const db = ctx.database.db;
  const owned = db.select({ id: services.id }).from(services).where(ownedBy(ownerId, serviceId));
  await writeBatch(ctx.database, [
    ...serviceErasure(ctx, owned),
    db.delete(services).where(ownedBy(ownerId, serviceId)),
  ]);
  ctx.keyCache.clear();
  ctx.verifyCache.clear();
}
