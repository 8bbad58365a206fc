import { Cron } from "croner";
import { lte, or } from "drizzle-orm";
import type { AppContext } from "./context.ts";
import { sessions } from "./db/schema.ts";

/** Removes sessions past their idle or absolute expiry. */
export async function pruneExpiredSessions(ctx: AppContext): Promise<number> {
  const now = ctx.clock.now();
  const rs = await ctx.database.db
    .delete(sessions)
    .where(or(lte(sessions.idleExpiresAt, now), lte(sessions.absoluteExpiresAt, now)));
  return rs.rowsAffected;
}

/** Scheduled maintenance (croner). Each run is guarded so a failure is logged, never thrown. */
export function startJobs(ctx: AppContext): { stop(): Promise<void> } {
  const guarded = (name: string, work: () => Promise<unknown>) => async () => {
    try {
      await work();
    } catch (err) {
      ctx.logger.warn("job failed", { job: name, error: (err as Error).message });
    }
  };
  const jobs = [
    new Cron(
      "0 * * * * *",
      { protect: true },
      guarded("key-usage", () => ctx.keyUsage.flush(ctx.database)),
    ),
    new Cron(
      "30 17 * * * *",
      { protect: true },
      guarded("session-retention", () => pruneExpiredSessions(ctx)),
    ),
  ];
  return {
    async stop() {
      for (const job of jobs) job.stop();
      await guarded("key-usage", () => ctx.keyUsage.flush(ctx.database))();
    },
  };
}
