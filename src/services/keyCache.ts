import { TtlCache } from "../cache.ts";
import type { Clock } from "../clock.ts";
import type { ApiKeyRow, ServiceRow } from "../db/schema.ts";

export interface CachedKey {
  key: ApiKeyRow;
  service: ServiceRow;
}

/**
 * API-key lookups by SHA-256. Any local key or service change clears it (they are rare), so a
 * revoke is seen at once here and within SIGILUM_CACHE_TTL by other instances.
 */
export class KeyCache {
  private cache: TtlCache<CachedKey>;

  constructor(clock: Clock, ttlMs: number) {
    this.cache = new TtlCache(clock, ttlMs);
  }

  get(hash: string) {
    return this.cache.get(hash);
  }

  set(hash: string, value: CachedKey) {
    this.cache.set(hash, value);
  }

  clear() {
    this.cache.clear();
  }

  get stats() {
    return { hits: this.cache.hits, misses: this.cache.misses };
  }
}
