import { Cron } from "croner";
import { lte, or } from "drizzle-orm";
import { pruneChangeLog } from "./changeLog.ts";
import { expirePendingClaims } from "./claims/index.ts";
import type { AppContext } from "./context.ts";
import {
  claimNonces,
  feedTombstones,
  sessions,
  signatureNonces,
  webauthnChallenges,
} from "./db/schema.ts";
import { pruneUsageEvents } from "./usage/index.ts";
import { pruneDeliveries } from "./webhooks/index.ts";

// Long enough for any feed follower that polls at least monthly to see the tombstone.
const FEED_TOMBSTONE_RETENTION_MS = 30 * 86_400_000;

/** Removes expired sessions, passkey challenges, replay-protection nonces and old feed tombstones (retention). */
export async function pruneExpired(ctx: AppContext): Promise<number> {
  const now = ctx.clock.now();
  const db = ctx.database.db;
  const results = await Promise.all([
    db
      .delete(sessions)
      .where(or(lte(sessions.idleExpiresAt, now), lte(sessions.absoluteExpiresAt, now))),
    db.delete(webauthnChallenges).where(lte(webauthnChallenges.expiresAt, now)),
    db.delete(signatureNonces).where(lte(signatureNonces.expiresAt, now)),
    db.delete(claimNonces).where(lte(claimNonces.expiresAt, now)),
    db
      .delete(feedTombstones)
      .where(lte(feedTombstones.removedAt, now - FEED_TOMBSTONE_RETENTION_MS)),
  ]);
  return results.reduce((n, rs) => n + rs.rowsAffected, 0);
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
      "30 */10 * * * *",
      { protect: true },
      guarded("retention", () =>
        Promise.all([
          pruneExpired(ctx),
          pruneDeliveries(ctx),
          pruneUsageEvents(ctx),
          pruneChangeLog(ctx),
        ]),
      ),
    ),
    new Cron(
      "*/30 * * * * *",
      { protect: true },
      guarded("claim-expiry", () => expirePendingClaims(ctx)),
    ),
  ];
  return {
    async stop() {
      for (const job of jobs) job.stop();
      await guarded("key-usage", () => ctx.keyUsage.flush(ctx.database))();
    },
  };
}
