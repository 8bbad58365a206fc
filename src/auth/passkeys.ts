import { and, asc, eq, isNotNull, ne, sql } from "drizzle-orm";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { isUniqueViolation, pagedRows } from "../db/client.ts";
import { owners, type Passkey, passkeys } from "../db/schema.ts";
import { conflict, notFound } from "../http/errors.ts";
import type { Page } from "../http/pagination.ts";
import { newId } from "../ids.ts";
import type { PasskeyView } from "./model.ts";
import { transportsOf } from "./webauthn.ts";

type Credential = Pick<
  Passkey,
  "credentialId" | "publicKey" | "counter" | "transports" | "backupEligible" | "backedUp"
>;

export function passkeyView(p: Passkey): PasskeyView {
  return {
    id: p.id,
    name: p.name,
    created_at: toIso(p.createdAt),
    last_used_at: p.lastUsedAt === null ? null : toIso(p.lastUsedAt),
    transports: transportsOf(p),
    backup_eligible: p.backupEligible,
    backed_up: p.backedUp,
  };
}

/** The row for a verified credential; `name` defaults by kind (synced or device-bound). */
export function newPasskey(
  ctx: AppContext,
  ownerId: string,
  credential: Credential,
  name?: string,
): Passkey {
  return {
    id: newId.passkey(),
    ownerId,
    ...credential,
    name: name?.trim() || (credential.backupEligible ? "Synced passkey" : "Passkey"),
    createdAt: ctx.clock.now(),
    lastUsedAt: null,
  };
}

/** A credential registered twice (to anyone) is a 409, not a 500. */
export function duplicateCredential(err: unknown): never {
  if (isUniqueViolation(err, "passkeys.credential_id"))
    throw conflict("CONFLICT", "This passkey is already registered");
  throw err;
}

export async function addPasskey(ctx: AppContext, passkey: Passkey): Promise<void> {
  await ctx.database.db.insert(passkeys).values(passkey).catch(duplicateCredential);
}

export function listPasskeys(ctx: AppContext, ownerId: string, page: Page) {
  return pagedRows(ctx.database, passkeys, {
    where: eq(passkeys.ownerId, ownerId),
    orderBy: [asc(passkeys.createdAt), asc(passkeys.id)],
    page,
  });
}

/** The owner's passkeys for excludeCredentials (an authenticator may hold one per account). */
export function credentialsOf(ctx: AppContext, ownerId: string) {
  return ctx.database.db
    .select({ credentialId: passkeys.credentialId, transports: passkeys.transports })
    .from(passkeys)
    .where(eq(passkeys.ownerId, ownerId));
}

export async function findByCredentialId(
  ctx: AppContext,
  credentialId: string,
): Promise<Passkey | null> {
  const [row] = await ctx.database.db
    .select()
    .from(passkeys)
    .where(eq(passkeys.credentialId, credentialId))
    .limit(1);
  return row ?? null;
}

/**
 * Stores a sign-in's counter and backup state. Guarded on the counter read before verifying, so
 * two concurrent sign-ins with one assertion cannot both pass; false when the other one won.
 */
export async function recordUse(
  ctx: AppContext,
  passkey: Passkey,
  use: { counter: number; backedUp: boolean },
): Promise<boolean> {
  const updated = await ctx.database.db
    .update(passkeys)
    .set({ counter: use.counter, backedUp: use.backedUp, lastUsedAt: ctx.clock.now() })
    .where(and(eq(passkeys.id, passkey.id), eq(passkeys.counter, passkey.counter)))
    .returning({ id: passkeys.id });
  return updated.length > 0;
}

export async function renamePasskey(
  ctx: AppContext,
  ownerId: string,
  id: string,
  name: string,
): Promise<Passkey> {
  const [row] = await ctx.database.db
    .update(passkeys)
    .set({ name: name.trim() })
    .where(and(eq(passkeys.id, id), eq(passkeys.ownerId, ownerId)))
    .returning();
  if (!row) throw notFound("Passkey");
  return row;
}

/**
 * Deletes one of the owner's passkeys unless it is their last way in (no password, no other
 * passkey): one guarded DELETE, so two concurrent deletions cannot remove the last two.
 */
export async function deletePasskey(ctx: AppContext, ownerId: string, id: string): Promise<void> {
  const db = ctx.database.db;
  const hasPassword = db
    .select({ one: sql`1` })
    .from(owners)
    .where(and(eq(owners.id, ownerId), isNotNull(owners.passwordHash)));
  const others = db
    .select({ one: sql`1` })
    .from(passkeys)
    .where(and(eq(passkeys.ownerId, ownerId), ne(passkeys.id, id)));
  const deleted = await db
    .delete(passkeys)
    .where(
      and(
        eq(passkeys.id, id),
        eq(passkeys.ownerId, ownerId),
        sql`(exists ${hasPassword} or exists ${others})`,
      ),
    )
    .returning({ id: passkeys.id });
  if (deleted.length > 0) return;
  const [exists] = await db
    .select({ id: passkeys.id })
    .from(passkeys)
    .where(and(eq(passkeys.id, id), eq(passkeys.ownerId, ownerId)));
  if (!exists) throw notFound("Passkey");
  throw conflict(
    "LAST_CREDENTIAL",
    "This is the account's only way to sign in; set a password or add another passkey first",
  );
}
