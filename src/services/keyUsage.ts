import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import type { Database } from "../db/client.ts";
import { apiKeys } from "../db/schema.ts";

/**
 * `last_used_at` batched to the minute: authentication only notes the time in memory; a job
 * writes the notes out once a minute (and at shutdown), skipping rows already that fresh.
 */
export class KeyUsage {
  private pending = new Map<string, number>();

  constructor(private clock: Clock) {}

  touch(keyId: string): void {
    this.pending.set(keyId, this.clock.now());
  }

  async flush(database: Database): Promise<number> {
    const batch = [...this.pending];
    this.pending.clear();
    for (const [keyId, at] of batch) {
      const stale = or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, at - 60_000));
      await database.db
        .update(apiKeys)
        .set({ lastUsedAt: at })
        .where(and(eq(apiKeys.id, keyId), stale));
    }
    return batch.length;
  }
}
