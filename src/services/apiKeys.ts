import { and, desc, eq, gt, isNotNull, isNull, lte, or, type SQL, sql } from "drizzle-orm";
import { futureTimestamp } from "../auth/index.ts";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { sha256Hex } from "../crypto.ts";
import { findOr404, pagedRows, writeBatch } from "../db/client.ts";
import {
  type ApiKeyRow,
  apiKeys,
  type Environment,
  type KeyStatus,
  type ServiceRow,
  services,
} from "../db/schema.ts";
import { insertWhere } from "../db/writes.ts";
import { conflict, limitReached } from "../http/errors.ts";
import type { Page } from "../http/pagination.ts";
import { newId } from "../ids.ts";
import { hasValidChecksum, mintSecret, secretPrefix } from "../secrets.ts";
import type { ApiKey } from "./model.ts";
import { findOwnedService } from "./service.ts";

export type { Environment, KeyStatus };

const KEY_RE = /^sgl_sk_(prod|test)_[0-9A-Za-z]{38}$/;

export function keyStatus(row: ApiKeyRow, now: number): KeyStatus {
  if (row.revokedAt !== null) return "revoked";
  if (row.expiresAt !== null && row.expiresAt <= now) return "expired";
  return "active";
}

export function keyView(row: ApiKeyRow, now: number): ApiKey {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    environment: row.environment,
    status: keyStatus(row, now),
    created_at: toIso(row.createdAt),
    last_used_at: toIso(row.lastUsedAt),
    expires_at: toIso(row.expiresAt),
    revoked_at: toIso(row.revokedAt),
  };
}

function statusFilter(status: KeyStatus | "all", now: number): SQL | undefined {
  switch (status) {
    case "active":
      return and(
        isNull(apiKeys.revokedAt),
        or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)),
      );
    case "revoked":
      return isNotNull(apiKeys.revokedAt);
    case "expired":
      return and(isNull(apiKeys.revokedAt), lte(apiKeys.expiresAt, now));
    default:
      return undefined;
  }
}

export async function listKeys(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  status: KeyStatus | "all",
  page: Page,
) {
  await findOwnedService(ctx, ownerId, serviceId);
  const now = ctx.clock.now();
  const where = and(eq(apiKeys.serviceId, serviceId), statusFilter(status, now));
  const { rows, total } = await pagedRows(ctx.database, apiKeys, {
    where,
    orderBy: [desc(apiKeys.createdAt), desc(apiKeys.id)],
    page,
  });
  return { items: rows.map((r) => keyView(r, now)), total };
}

interface KeyInput {
  name?: string | null;
  environment?: Environment;
  expires_at?: string | null;
}

function mintKeyRow(ctx: AppContext, serviceId: string, input: KeyInput) {
  const environment = input.environment ?? "prod";
  const key = mintSecret(`sgl_sk_${environment}_`);
  const row: ApiKeyRow = {
    id: newId.apiKey(),
    serviceId,
    name: input.name?.trim() || null,
    environment,
    prefix: secretPrefix(key),
    keyHash: sha256Hex(key),
    createdAt: ctx.clock.now(),
    lastUsedAt: null,
    expiresAt: futureTimestamp(ctx, "expires_at", input.expires_at),
    revokedAt: null,
  };
  return { key, row };
}

function createdKeyView(key: string, row: ApiKeyRow) {
  return {
    key,
    id: row.id,
    prefix: row.prefix,
    name: row.name,
    environment: row.environment,
    created_at: toIso(row.createdAt),
    expires_at: toIso(row.expiresAt),
  };
}

/** Inserts only while the service has fewer active keys than the limit (one statement, race-free). */
function insertWithinLimit(ctx: AppContext, row: ApiKeyRow, excludeKeyId: string | null) {
  const now = ctx.clock.now();
  const active = and(
    eq(apiKeys.serviceId, row.serviceId),
    isNull(apiKeys.revokedAt),
    or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now)),
    sql`${apiKeys.id} IS NOT ${excludeKeyId}`,
  );
  const { id, serviceId, name, environment, prefix, keyHash, createdAt, expiresAt } = row;
  return insertWhere(
    apiKeys,
    { id, serviceId, name, environment, prefix, keyHash, createdAt, expiresAt },
    sql`(SELECT count(*) FROM ${apiKeys} WHERE ${active}) < ${ctx.config.maxKeysPerService}`,
  );
}

function keyLimitReached(ctx: AppContext) {
  return limitReached(`At most ${ctx.config.maxKeysPerService} active API keys per service`);
}

export async function createKey(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  input: KeyInput,
) {
  await findOwnedService(ctx, ownerId, serviceId);
  const { key, row } = mintKeyRow(ctx, serviceId, input);
  const rs = await ctx.database.db.run(insertWithinLimit(ctx, row, null));
  if (rs.rowsAffected === 0) throw keyLimitReached(ctx);
  return createdKeyView(key, row);
}

async function findKey(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  keyId: string,
): Promise<ApiKeyRow> {
  await findOwnedService(ctx, ownerId, serviceId);
  const owned = and(eq(apiKeys.id, keyId), eq(apiKeys.serviceId, serviceId));
  return findOr404(ctx.database, apiKeys, owned, "API key");
}

/** Revokes at once; revoking twice keeps the first revocation time. */
export async function revokeKey(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  keyId: string,
): Promise<ApiKey> {
  const row = await findKey(ctx, ownerId, serviceId, keyId);
  const now = ctx.clock.now();
  if (row.revokedAt === null) {
    await ctx.database.db
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)));
    row.revokedAt = now;
  }
  ctx.keyCache.clear();
  return keyView(row, now);
}

/** Mints a replacement; the old key keeps working for `graceSeconds` (0 = revoked now). */
export async function rollKey(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  keyId: string,
  graceSeconds: number,
) {
  const old = await findKey(ctx, ownerId, serviceId, keyId);
  const now = ctx.clock.now();
  if (keyStatus(old, now) !== "active") {
    throw conflict(
      "CONFLICT",
      `Only an active key can be rolled; this one is ${keyStatus(old, now)}`,
    );
  }
  const { key, row } = mintKeyRow(ctx, serviceId, { name: old.name, environment: old.environment });
  const graceEnd = now + graceSeconds * 1000;
  const retire =
    graceSeconds === 0
      ? { revokedAt: now }
      : { expiresAt: old.expiresAt === null ? graceEnd : Math.min(old.expiresAt, graceEnd) };
  const db = ctx.database.db;
  const newKeyExists = sql`EXISTS (SELECT 1 FROM ${apiKeys} WHERE ${apiKeys.id} = ${row.id})`;
  // Insert and retire in one transaction; the old key is retired only if the new one went in.
  const [inserted] = await writeBatch(ctx.database, [
    insertWithinLimit(ctx, row, old.id),
    db
      .update(apiKeys)
      .set(retire)
      .where(and(eq(apiKeys.id, old.id), newKeyExists)),
  ]);
  if (inserted?.rowsAffected === 0) throw keyLimitReached(ctx);
  ctx.keyCache.clear();
  return createdKeyView(key, row);
}

export interface AuthenticatedKey {
  key: ApiKeyRow;
  service: ServiceRow;
}

/**
 * Authenticates a service API key presented as `Authorization: Bearer sgl_sk_…`. The format and
 * checksum are checked offline first; revoked and expired keys are rejected. Lookups are cached
 * for SIGILUM_CACHE_TTL; every local key change clears the cache, so a revoke is seen at once
 * here and within the TTL by other instances.
 */
export async function authenticateApiKey(
  ctx: AppContext,
  presented: string,
): Promise<AuthenticatedKey | null> {
  if (!KEY_RE.test(presented) || !hasValidChecksum(presented)) return null;
  const hash = sha256Hex(presented);
  const found = await ctx.keyCache.load(hash, async () => {
    const [row] = await ctx.database.db
      .select({ key: apiKeys, service: services })
      .from(apiKeys)
      .innerJoin(services, eq(services.id, apiKeys.serviceId))
      .where(eq(apiKeys.keyHash, hash))
      .limit(1);
    return row;
  });
  // Status is computed at use, so a cached key still expires on time.
  if (!found || keyStatus(found.key, ctx.clock.now()) !== "active") return null;
  ctx.keyUsage.touch(found.key.id);
  return found;
}
