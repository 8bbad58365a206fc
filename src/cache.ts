import type { Clock } from "./clock.ts";

/**
 * A small TTL map for hot-path answers (verify, API-key lookups). Local writes invalidate at once;
 * other instances see a change within the TTL (SIGILUM_CACHE_TTL, documented). TTL 0 disables it.
 */
export class TtlCache<V> {
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
      return entry.value;
    }
    if (entry) this.entries.delete(key);
    this.misses++;
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    // Oldest-first eviction: Map iterates in insertion order.
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
