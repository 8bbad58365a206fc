import { inArray, lte } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { usageEvents } from "../db/schema.ts";

/**
 * Deletes events received more than SIGILUM_USAGE_RETENTION ago, in batches: the embedded driver
 * writes synchronously on the event loop, so one huge DELETE would stall every request.
 */
export async function pruneUsageEvents(ctx: AppContext, batchSize = 5_000): Promise<number> {
  const cutoff = ctx.clock.now() - ctx.config.usageRetention;
  const db = ctx.database.db;
  let removed = 0;
  for (;;) {
    const expired = db
      .select({ id: usageEvents.id })
      .from(usageEvents)
      .where(lte(usageEvents.receivedAt, cutoff))
      .limit(batchSize);
    const result = await db.delete(usageEvents).where(inArray(usageEvents.id, expired));
    removed += result.rowsAffected;
    if (result.rowsAffected < batchSize) return removed;
  }
}
