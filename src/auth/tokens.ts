import { and, desc, eq } from "drizzle-orm";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { sha256Hex } from "../crypto.ts";
import { countRows, pagedRows } from "../db/client.ts";
import { type PersonalAccessToken, personalAccessTokens } from "../db/schema.ts";
import { limitReached, validationError } from "../http/errors.ts";
import type { Page } from "../http/pagination.ts";
import { newId } from "../ids.ts";
import { hasValidChecksum, mintSecret, secretPrefix } from "../secrets.ts";

export const PAT_HEAD = "sgl_pat_";
const LAST_USED_RESOLUTION_MS = 60_000;

export function tokenView(row: PersonalAccessToken) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    created_at: toIso(row.createdAt),
    expires_at: toIso(row.expiresAt),
    last_used_at: toIso(row.lastUsedAt),
  };
}

/** Parses an optional future ISO timestamp (`expires_at`) into ms. */
export function futureTimestamp(
  ctx: AppContext,
  field: string,
  value: string | null | undefined,
): number | null {
  if (value === undefined || value === null) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw validationError(field, "must be an ISO 8601 timestamp");
  if (ms <= ctx.clock.now()) throw validationError(field, "must be in the future");
  return ms;
}

export async function createToken(
  ctx: AppContext,
  ownerId: string,
  input: { name: string; expires_at?: string | null },
) {
  const expiresAt = futureTimestamp(ctx, "expires_at", input.expires_at);
  const count = await countRows(
    ctx.database,
    personalAccessTokens,
    eq(personalAccessTokens.ownerId, ownerId),
  );
  if (count >= ctx.config.maxTokensPerOwner) {
    throw limitReached(`At most ${ctx.config.maxTokensPerOwner} personal access tokens per owner`);
  }
  const token = mintSecret(PAT_HEAD);
  const row: PersonalAccessToken = {
    id: newId.token(),
    ownerId,
    name: input.name.trim(),
    prefix: secretPrefix(token),
    tokenHash: sha256Hex(token),
    createdAt: ctx.clock.now(),
    expiresAt,
    lastUsedAt: null,
  };
  await ctx.database.db.insert(personalAccessTokens).values(row);
  const { last_used_at: _unused, ...view } = tokenView(row);
  return { ...view, token };
}

export function listTokens(ctx: AppContext, ownerId: string, page: Page) {
  return pagedRows(ctx.database, personalAccessTokens, {
    where: eq(personalAccessTokens.ownerId, ownerId),
    orderBy: [desc(personalAccessTokens.createdAt), desc(personalAccessTokens.id)],
    page,
  });
}

export async function deleteToken(ctx: AppContext, ownerId: string, id: string): Promise<boolean> {
  const deleted = await ctx.database.db
    .delete(personalAccessTokens)
    .where(and(eq(personalAccessTokens.id, id), eq(personalAccessTokens.ownerId, ownerId)))
    .returning({ id: personalAccessTokens.id });
  return deleted.length > 0;
}

/** Resolves a bearer PAT to its row, or null when unknown, malformed or expired. */
export async function authenticateToken(
  ctx: AppContext,
  token: string,
): Promise<PersonalAccessToken | null> {
  if (!token.startsWith(PAT_HEAD) || !hasValidChecksum(token)) return null;
  const [row] = await ctx.database.db
    .select()
    .from(personalAccessTokens)
    .where(eq(personalAccessTokens.tokenHash, sha256Hex(token)))
    .limit(1);
  const now = ctx.clock.now();
  if (!row || (row.expiresAt !== null && row.expiresAt <= now)) return null;
  if (row.lastUsedAt === null || now - row.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
    await ctx.database.db
      .update(personalAccessTokens)
      .set({ lastUsedAt: now })
      .where(eq(personalAccessTokens.id, row.id));
  }
  return row;
}
