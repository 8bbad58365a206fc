import { BoundedCache } from "../cache.ts";
import type { Clock } from "../clock.ts";
import type { ApiKeyRow, Owner, ServiceRow } from "../db/schema.ts";

export interface CachedKey {
  key: ApiKeyRow;
  service: ServiceRow;
}

/**
 * API-key lookups by SHA-256, services by slug, owners by namespace. Any local key, service or
 * account change clears them all (they are rare), so a revoke is seen at once here; other
 * instances drop the entry when they read the change log (src/changeLog.ts), within 250 ms.
 */
export class KeyCache {
  private cache: BoundedCache<CachedKey>;
  readonly servicesBySlug: BoundedCache<ServiceRow>;
  readonly ownersByNamespace: BoundedCache<Owner>;

  constructor(clock: Clock, ttlMs: number) {
    this.cache = new BoundedCache(clock, ttlMs);
    this.servicesBySlug = new BoundedCache(clock, ttlMs);
    this.ownersByNamespace = new BoundedCache(clock, ttlMs);
  }

  /** The cached key or `lookup`'s (not-found is not cached); see BoundedCache.load. */
  load(hash: string, lookup: () => Promise<CachedKey | undefined>) {
    return this.cache.load(hash, lookup);
  }

  /** One key changed elsewhere (the change log names it by hash). */
  forget(hash: string) {
    this.cache.delete(hash);
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
