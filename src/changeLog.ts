import { asc, gt, lte, max } from "drizzle-orm";
import type { AppContext } from "./context.ts";
import { type CacheChangeKind, cacheChanges } from "./db/schema.ts";

/** operations.md §6: another instance's change is dropped from this one's caches within this. */
const FOLLOW_INTERVAL_MS = 250;
// Longer than any cache entry lives (SIGILUM_CACHE_TTL ≤ 60 s), so pruning never hides a change
// from an instance that still caches what it invalidates.
const KEEP_MS = 10 * 60_000;
const PAGE = 500;

type Caches = Pick<AppContext, "database" | "keyCache" | "verifyCache" | "logger">;

/**
 * Keeps this instance's in-memory caches (verify answers, API keys, services, owners) right when
 * other instances change the database. Triggers record each such change in `cache_changes`, in
 * the transaction that makes it; this reads the rows after the last one it saw every 250 ms (one
 * primary-key range query) and drops the entries they name. This instance's own changes are
 * dropped directly where they are committed, so they take effect at once.
 */
export class ChangeLogFollower {
  private lastSeq = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private reading: Promise<void> | null = null;

  constructor(private ctx: Caches) {}

  /** Starts after the latest change: the caches are empty, so nothing earlier matters. */
  async start(): Promise<void> {
    const [row] = await this.ctx.database.db
      .select({ seq: max(cacheChanges.seq) })
      .from(cacheChanges);
    this.lastSeq = row?.seq ?? 0;
    this.timer = setInterval(() => void this.follow(), FOLLOW_INTERVAL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reads and applies the new changes; a call while a read is running joins it. */
  follow(): Promise<void> {
    this.reading ??= this.readNew()
      .catch((err) =>
        this.ctx.logger.warn("cache change log read failed", { error: (err as Error).message }),
      )
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }

  private async readNew(): Promise<void> {
    for (let page = 0; page < 100; page++) {
      const rows = await this.ctx.database.db
        .select({ seq: cacheChanges.seq, kind: cacheChanges.kind, key: cacheChanges.key })
        .from(cacheChanges)
        .where(gt(cacheChanges.seq, this.lastSeq))
        .orderBy(asc(cacheChanges.seq))
        .limit(PAGE);
      // A gap means rows were pruned before this instance read them: forget everything.
      if (rows.length > 0 && this.lastSeq > 0 && rows[0]!.seq > this.lastSeq + 1) this.dropAll();
      for (const row of rows) this.apply(row.kind, row.key);
      if (rows.length > 0) this.lastSeq = rows[rows.length - 1]!.seq;
      if (rows.length < PAGE) return;
    }
  }

  private apply(kind: CacheChangeKind, key: string): void {
    switch (kind) {
      case "claim": {
        const [serviceId, namespace, publicKey] = JSON.parse(key) as string[];
        this.ctx.verifyCache.forget({
          serviceId: serviceId!,
          namespace: namespace!,
          publicKey: publicKey!,
        });
        return;
      }
      case "api_key":
        this.ctx.keyCache.forget(key);
        return;
      // A service or an account going away takes keys, claims and slugs with it; both are rare.
      case "service":
      case "owner":
        this.dropAll();
        return;
    }
  }

  private dropAll(): void {
    this.ctx.keyCache.clear();
    this.ctx.verifyCache.clear();
  }
}

/**
 * Retention: change-log rows older than any cache entry can be. The triggers stamp rows with the
 * database's clock, so they are compared with real time, not the app's clock.
 */
export async function pruneChangeLog(ctx: Pick<AppContext, "database">) {
  const rs = await ctx.database.db
    .delete(cacheChanges)
    .where(lte(cacheChanges.at, Date.now() - KEEP_MS));
  return rs.rowsAffected;
}
