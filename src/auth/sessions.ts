import { and, desc, eq, gt } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { sha256Hex } from "../crypto.ts";
import { pagedRows } from "../db/client.ts";
import { type Session, sessions } from "../db/schema.ts";
import type { Page } from "../http/pagination.ts";
import { newId, randomBytes } from "../ids.ts";

export const SESSION_COOKIE = "sigilum_session";
const RENEW_EVERY_MS = 86_400_000;

export interface NewSession {
  session: Session;
  token: string;
}

/** A fresh ≥256-bit token; only its SHA-256 is stored. */
export async function createSession(
  ctx: AppContext,
  ownerId: string,
  client: { ip: string; userAgent: string | null },
): Promise<NewSession> {
  const token = Buffer.from(randomBytes(32)).toString("base64url");
  const now = ctx.clock.now();
  const session: Session = {
    id: newId.session(),
    ownerId,
    tokenHash: sha256Hex(token),
    createdAt: now,
    renewedAt: now,
    idleExpiresAt: now + ctx.config.sessionIdleTtl,
    absoluteExpiresAt: now + ctx.config.sessionMaxTtl,
    ip: client.ip.slice(0, 64),
    userAgent: client.userAgent?.slice(0, 256) ?? null,
  };
  await ctx.database.db.insert(sessions).values(session);
  return { session, token };
}

export function sessionExpiresAt(s: Session): number {
  return Math.min(s.idleExpiresAt, s.absoluteExpiresAt);
}

/**
 * Looks a token up and applies the sliding expiry: renewed at most once a day, never past the
 * absolute limit. Returns the (possibly renewed) session and whether it was renewed.
 */
export async function validateSession(
  ctx: AppContext,
  token: string,
): Promise<{ session: Session; renewed: boolean } | null> {
  const now = ctx.clock.now();
  const [session] = await ctx.database.db
    .select()
    .from(sessions)
    .where(eq(sessions.tokenHash, sha256Hex(token)))
    .limit(1);
  if (!session) return null;
  if (sessionExpiresAt(session) <= now) {
    await ctx.database.db.delete(sessions).where(eq(sessions.id, session.id));
    return null;
  }
  if (now - session.renewedAt < RENEW_EVERY_MS) return { session, renewed: false };
  const renewed = {
    ...session,
    renewedAt: now,
    idleExpiresAt: Math.min(now + ctx.config.sessionIdleTtl, session.absoluteExpiresAt),
  };
  await ctx.database.db
    .update(sessions)
    .set({ renewedAt: renewed.renewedAt, idleExpiresAt: renewed.idleExpiresAt })
    .where(eq(sessions.id, session.id));
  return { session: renewed, renewed: true };
}

export function listSessions(ctx: AppContext, ownerId: string, page: Page) {
  const now = ctx.clock.now();
  const live = and(
    eq(sessions.ownerId, ownerId),
    gt(sessions.idleExpiresAt, now),
    gt(sessions.absoluteExpiresAt, now),
  );
  return pagedRows(ctx.database, sessions, {
    where: live,
    orderBy: [desc(sessions.createdAt), desc(sessions.id)],
    page,
  });
}

/** Ends one of the owner's sessions; false when it is not theirs (or gone). */
export async function revokeSession(
  ctx: AppContext,
  ownerId: string,
  sessionId: string,
): Promise<boolean> {
  const deleted = await ctx.database.db
    .delete(sessions)
    .where(and(eq(sessions.id, sessionId), eq(sessions.ownerId, ownerId)))
    .returning({ id: sessions.id });
  return deleted.length > 0;
}
