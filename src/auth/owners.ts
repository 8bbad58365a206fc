import { and, eq, ne, or } from "drizzle-orm";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { type BatchStatement, countRows, isUniqueViolation, writeBatch } from "../db/client.ts";
import { accountErasure } from "../db/erasure.ts";
import {
  type Owner,
  owners,
  passkeys,
  personalAccessTokens,
  sessions,
  webauthnChallenges,
} from "../db/schema.ts";
import { ApiError, conflict, validationError } from "../http/errors.ts";
import { newId } from "../ids.ts";
import { didFor } from "../signing/index.ts";
import { normalizeSlug } from "../slugs.ts";
import type { User } from "./model.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";

// Names that collide with fixed routes (`/v1/namespaces/claims`) or would mislead people.
const RESERVED_NAMESPACES = new Set(["claims", "admin", "root", "sigilum", "system", "api", "www"]);
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function normalizeEmail(raw: string): { email: string; normalized: string } {
  const email = raw.trim();
  if (!EMAIL_RE.test(email) || email.length > 254)
    throw validationError("email", "must be an email address");
  return { email, normalized: email.toLowerCase() };
}

export async function userView(ctx: AppContext, owner: Owner): Promise<User> {
  const count = await countRows(ctx.database, passkeys, eq(passkeys.ownerId, owner.id));
  return {
    id: owner.id,
    namespace: owner.namespace,
    did: didFor(owner.namespace),
    email: owner.email,
    created_at: toIso(owner.createdAt),
    has_password: owner.passwordHash !== null,
    passkey_count: count,
  };
}

/** A new owner's namespace and email, normalised; 409 when either is reserved or taken. */
export async function availableIdentity(
  ctx: Pick<AppContext, "database">,
  input: { namespace: string; email: string },
): Promise<{ namespace: string; email: string; emailNormalized: string }> {
  const namespace = normalizeSlug("namespace", input.namespace);
  const { email, normalized } = normalizeEmail(input.email);
  if (RESERVED_NAMESPACES.has(namespace))
    throw conflict("NAMESPACE_TAKEN", `Namespace '${namespace}' is reserved`);
  const clash = await ctx.database.db
    .select({ namespace: owners.namespace, email: owners.emailNormalized })
    .from(owners)
    .where(or(eq(owners.namespace, namespace), eq(owners.emailNormalized, normalized)));
  throwIfTaken(clash, namespace);
  return { namespace, email, emailNormalized: normalized };
}

/** Creates an owner account; the unique indexes are the final word on races. */
export async function createOwner(
  ctx: Pick<AppContext, "database" | "clock">,
  input: { namespace: string; email: string; password: string },
): Promise<Owner> {
  const identity = await availableIdentity(ctx, input);
  const now = ctx.clock.now();
  const owner: Owner = {
    id: newId.owner(),
    ...identity,
    passwordHash: await hashPassword(input.password),
    createdAt: now,
    updatedAt: now,
  };
  await insertOwner(ctx, owner);
  return owner;
}

/**
 * Inserts a new owner, with `alongside` (their first passkey) in the same transaction; a
 * namespace or email taken meanwhile is a 409, as in availableIdentity.
 */
export async function insertOwner(
  ctx: Pick<AppContext, "database">,
  owner: Owner,
  alongside: BatchStatement[] = [],
): Promise<void> {
  const insert = ctx.database.db.insert(owners).values(owner);
  try {
    if (alongside.length === 0) await insert;
    else await writeBatch(ctx.database, [insert, ...alongside]);
  } catch (err) {
    if (isUniqueViolation(err, "owners.namespace"))
      throwIfTaken([{ namespace: owner.namespace, email: "" }], owner.namespace);
    if (isUniqueViolation(err, "owners.email"))
      throwIfTaken([{ namespace: "", email: owner.emailNormalized }], owner.namespace);
    throw err;
  }
}

function throwIfTaken(clash: { namespace: string; email: string }[], namespace: string) {
  if (clash.some((c) => c.namespace === namespace)) {
    throw conflict("NAMESPACE_TAKEN", `Namespace '${namespace}' is already taken`);
  }
  if (clash.length > 0) throw conflict("EMAIL_TAKEN", "An account with this email already exists");
}

const INVALID_CREDENTIALS = () =>
  new ApiError(401, "INVALID_CREDENTIALS", "Invalid login or password");

/** The owner a login names: an email (any case) or a namespace. */
export async function findOwnerByLogin(ctx: AppContext, login: string): Promise<Owner | null> {
  const key = login.trim().toLowerCase();
  const [owner] = await ctx.database.db
    .select()
    .from(owners)
    .where(key.includes("@") ? eq(owners.emailNormalized, key) : eq(owners.namespace, key))
    .limit(1);
  return owner ?? null;
}

/** Checks the password; unknown accounts cost the same Argon2 work as known ones. */
export async function checkCredentials(owner: Owner | null, password: string): Promise<Owner> {
  const ok = await verifyPassword(password, owner?.passwordHash ?? null);
  if (!owner || !ok) throw INVALID_CREDENTIALS();
  return owner;
}

export async function findOwnerByNamespace(
  ctx: Pick<AppContext, "database">,
  namespace: string,
): Promise<Owner | null> {
  const [owner] = await ctx.database.db
    .select()
    .from(owners)
    .where(eq(owners.namespace, namespace))
    .limit(1);
  return owner ?? null;
}

export async function findOwner(ctx: AppContext, id: string): Promise<Owner | null> {
  const [owner] = await ctx.database.db.select().from(owners).where(eq(owners.id, id)).limit(1);
  return owner ?? null;
}

/** Sets a new password and ends every other session of the owner in the same transaction. */
export async function changePassword(
  ctx: AppContext,
  owner: Owner,
  input: { current_password?: string; new_password: string },
  keepSessionId: string | null,
) {
  if (owner.passwordHash !== null) {
    if (input.current_password === undefined)
      throw validationError("current_password", "is required");
    if (!(await verifyPassword(input.current_password, owner.passwordHash)))
      throw INVALID_CREDENTIALS();
  }
  const hash = await hashPassword(input.new_password);
  const others = keepSessionId
    ? and(eq(sessions.ownerId, owner.id), ne(sessions.id, keepSessionId))
    : eq(sessions.ownerId, owner.id);
  const db = ctx.database.db;
  await writeBatch(ctx.database, [
    db
      .update(owners)
      .set({ passwordHash: hash, updatedAt: ctx.clock.now() })
      .where(eq(owners.id, owner.id)),
    db.delete(sessions).where(others),
  ]);
}

/**
 * Deletes the owner and everything they own in one transaction; the namespace is free afterwards.
 * Each feature deletes its own rows (ctx.erasures); auth's own go last, the owner row at the end.
 */
export async function deleteAccount(ctx: AppContext, ownerId: string) {
  const db = ctx.database.db;
  await writeBatch(ctx.database, [
    ...accountErasure(ctx, ownerId),
    db.delete(passkeys).where(eq(passkeys.ownerId, ownerId)),
    db.delete(webauthnChallenges).where(eq(webauthnChallenges.ownerId, ownerId)),
    db.delete(personalAccessTokens).where(eq(personalAccessTokens.ownerId, ownerId)),
    db.delete(sessions).where(eq(sessions.ownerId, ownerId)),
    db.delete(owners).where(eq(owners.id, ownerId)),
  ]);
  ctx.keyCache.clear();
  ctx.verifyCache.clear();
}
