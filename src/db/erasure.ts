import { eq, type SQLWrapper } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import type { BatchStatement, Db } from "./client.ts";
import { services } from "./schema.ts";

/**
 * One feature's part in deleting services or a whole account: each feature deletes (or orphans)
 * its own rows, and app.ts lists every feature's part in `ctx.erasures`, so no feature writes
 * another's tables. The statements are the mechanism: they never rely on foreign-key cascades,
 * which a remote database does not guarantee (see the note in schema.ts).
 */
export interface Erasure {
  /** Rows naming any of these services (a subquery): these run before the services go. */
  serviceRows?(db: Db, serviceIds: SQLWrapper, now: number): BatchStatement[];
  /** Rows an owner holds: these run after every feature's `serviceRows`. */
  ownerRows?(db: Db, ownerId: string, now: number): BatchStatement[];
}

type ErasureContext = Pick<AppContext, "database" | "clock" | "erasures">;

/** What every feature deletes with these services (the service rows themselves excepted). */
export function serviceErasure(ctx: ErasureContext, serviceIds: SQLWrapper): BatchStatement[] {
  const now = ctx.clock.now();
  return ctx.erasures.flatMap((e) => e.serviceRows?.(ctx.database.db, serviceIds, now) ?? []);
}

/**
 * What every feature deletes with an account (the owner row and auth's own rows excepted): first
 * what names the owner's services, while the subquery still finds them, then what the owner holds.
 */
export function accountErasure(ctx: ErasureContext, ownerId: string): BatchStatement[] {
  const db = ctx.database.db;
  const now = ctx.clock.now();
  const owned = db.select({ id: services.id }).from(services).where(eq(services.ownerId, ownerId));
  return [
    ...serviceErasure(ctx, owned),
    ...ctx.erasures.flatMap((e) => e.ownerRows?.(db, ownerId, now) ?? []),
  ];
}
