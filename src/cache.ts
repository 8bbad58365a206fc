import type { Clock } from "./clock.ts";

/**
 * The one cache: at most `maxEntries` (the least recently used goes first), each for `ttlMs`.
 * App-state caches (verify answers, API keys) take SIGILUM_CACHE_TTL: local writes invalidate at
 * once, other instances see a change within the TTL, and TTL 0 disables them. Memos of pure
 * functions (key parsing, signature proofs) take an infinite TTL.
 */
export class BoundedCache<V> {
  private entries = new Map<string, { value: V; expiresAt: number }>();
  hits = 0;
  misses = 0;

  constructor(
    private clock: Clock,
    private ttlMs: number,
    private maxEntries = 100_000,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.clock.now()) {
      this.hits++;
      // Map iterates in insertion order: re-inserting makes this the most recently used.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry.value;
    }
    if (entry) this.entries.delete(key);
    this.misses++;
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries)
      this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expiresAt: this.clock.now() + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
