import type { Clock } from "./clock.ts";

/**
 * The one cache: at most `maxEntries` (the least recently used goes first — approximately: a hit
 * moves an entry to the back only once a quarter of `maxEntries` insertions have passed it, so
 * the hot entries of a hot path are not re-inserted on every hit; an entry used within the last
 * `maxEntries / 2` insertions is never the one evicted), each for `ttlMs`.
 * App-state caches (verify answers, API keys) take SIGILUM_CACHE_TTL: local writes invalidate at
 * once, other instances see a change within the TTL, and TTL 0 disables them. Memos of pure
 * functions (key parsing, signature proofs) take an infinite TTL.
 */
export class BoundedCache<V> {
  private entries = new Map<string, { value: V; expiresAt: number; seq: number }>();
  /** Insertions so far; an entry's `seq` is the count at its last (re-)insertion. */
  private inserted = 0;
  /** Lookups in flight by key; delete/clear drop them, so only an untouched lookup may fill. */
  private inFlight = new Map<string, Promise<V | undefined>>();
  /** Answers that needed no lookup of their own (stored, or joined one in flight). */
  hits = 0;
  /** Lookups started (a get() that found nothing counts too). */
  misses = 0;

  constructor(
    private clock: Clock,
    private ttlMs: number,
    private maxEntries = 100_000,
  ) {}

  get(key: string): V | undefined {
    const value = this.fresh(key);
    if (value === undefined) this.misses++;
    else this.hits++;
    return value;
  }

  /**
   * The cached value, or `loader`'s. Concurrent callers for one key share a single loader call
   * (an expiring hot entry costs one lookup, not one per request in flight). Its value is stored
   * only if the key was not invalidated (delete/clear) meanwhile: a lookup that read the old
   * state must not outlive the change for a whole TTL. Callers arriving after the invalidation
   * start a fresh lookup; those who joined before get the shared answer (they were concurrent
   * with the change). A rejection is shared with the joined callers and not cached; `undefined`
   * (not found) is shared but not stored. With TTL 0 nothing is stored, but lookups in flight
   * are still shared: that is as fresh as the database at the moment each caller arrived.
   */
  load<L extends V | undefined>(key: string, loader: () => Promise<L>): Promise<L> {
    const cached = this.fresh(key);
    if (cached !== undefined) {
      this.hits++;
      return Promise.resolve(cached as L);
    }
    const pending = this.inFlight.get(key);
    if (pending) {
      this.hits++;
      return pending as Promise<L>;
    }
    this.misses++;
    const lookup: Promise<L> = startLoader(loader).then(
      (value) => {
        if (this.settle(key, lookup) && value !== undefined) this.set(key, value);
        return value;
      },
      (error: unknown) => {
        this.settle(key, lookup);
        throw error;
      },
    );
    this.inFlight.set(key, lookup);
    return lookup;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries)
      this.entries.delete(this.entries.keys().next().value as string);
    const expiresAt =
      this.ttlMs === Number.POSITIVE_INFINITY ? this.ttlMs : this.clock.now() + this.ttlMs;
    this.entries.set(key, { value, expiresAt, seq: ++this.inserted });
  }

  delete(key: string): void {
    this.entries.delete(key);
    this.inFlight.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.inFlight.clear();
  }

  /** Ends `lookup`'s flight; true when it was still current (no invalidation since it began). */
  private settle(key: string, lookup: Promise<V | undefined>): boolean {
    if (this.inFlight.get(key) !== lookup) return false;
    this.inFlight.delete(key);
    return true;
  }

  /** The unexpired value without counting; marks it recently used (see the class comment). */
  private fresh(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // Memos never expire: no clock read for them.
    if (entry.expiresAt === Number.POSITIVE_INFINITY || entry.expiresAt > this.clock.now()) {
      if (this.inserted - entry.seq > this.maxEntries >> 2) {
        // Map iterates in insertion order: re-inserting moves it to the back of the eviction queue.
        this.entries.delete(key);
        entry.seq = ++this.inserted;
        this.entries.set(key, entry);
      }
      return entry.value;
    }
    this.entries.delete(key);
    return undefined;
  }
}

/** Runs `loader` now (so callers can see it started), turning a synchronous throw into a rejection. */
function startLoader<V>(loader: () => Promise<V>): Promise<V> {
  try {
    return loader();
  } catch (error) {
    return Promise.reject(error);
  }
}
