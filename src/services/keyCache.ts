import { TtlCache } from "../cache.ts";
import type { Clock } from "../clock.ts";
import type { ApiKeyRow, Owner, ServiceRow } from "../db/schema.ts";

export interface CachedKey {
  key: ApiKeyRow;
  service: ServiceRow;
}

/**
 * API-key lookups by SHA-256, services by slug, owners by namespace. Any local key, service or
 * account change clears them all
 * (they are rare), so a revoke is seen at once here and within SIGILUM_CACHE_TTL elsewhere.
 */
export class KeyCache {
  private cache: TtlCache<CachedKey>;
  readonly servicesBySlug: TtlCache<ServiceRow>;
  readonly ownersByNamespace: TtlCache<Owner>;

  constructor(clock: Clock, ttlMs: number) {
    this.cache = new TtlCache(clock, ttlMs);
    this.servicesBySlug = new TtlCache(clock, ttlMs);
    this.ownersByNamespace = new TtlCache(clock, ttlMs);
  }

  get(hash: string) {
    return this.cache.get(hash);
  }

  set(hash: string, value: CachedKey) {
    this.cache.set(hash, value);
  }

  clear() {
    this.cache.clear();
    this.servicesBySlug.clear();
    this.ownersByNamespace.clear();
  }

  get stats() {
    return { hits: this.cache.hits, misses: this.cache.misses };
  }
}
