import { and, inArray, lte, notExists, sql } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { deliveries, deliveryAttempts, events } from "../db/schema.ts";

/**
 * Prunes attempts and finished (succeeded or cancelled) deliveries older than
 * SIGILUM_WEBHOOK_RETENTION, then events nothing refers to any more. Failed deliveries stay as
 * dead letters for redelivery and recovery until an owner acts.
 */
export async function pruneDeliveries(ctx: AppContext): Promise<number> {
  const cutoff = ctx.clock.now() - ctx.config.webhookRetention;
  const db = ctx.database.db;
  const [attempts, finished, orphaned] = await Promise.all([
    db.delete(deliveryAttempts).where(lte(deliveryAttempts.startedAt, cutoff)),
    db
      .delete(deliveries)
      .where(
        and(
          inArray(deliveries.status, ["succeeded", "cancelled"]),
          lte(deliveries.completedAt, cutoff),
        ),
      ),
    db
      .delete(events)
      .where(
        and(
          lte(events.createdAt, cutoff),
          notExists(
            db
              .select({ one: sql`1` })
              .from(deliveries)
              .where(sql`${deliveries.eventId} = ${events.id}`),
          ),
        ),
      ),
  ]);
  return attempts.rowsAffected + finished.rowsAffected + orphaned.rowsAffected;
}
