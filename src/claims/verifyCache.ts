import { BoundedCache } from "../cache.ts";
import type { Clock } from "../clock.ts";
import type { ClaimRow } from "../db/schema.ts";
import type { VerifyAnswerModel } from "./model.ts";

/** The answer as sent (http-api.md): built once per lookup, then served as is. */
export type VerifyAnswer = Readonly<typeof VerifyAnswerModel.static>;

/** Verify answers by (service id, namespace, key); every local claim change forgets its entry. */
export class VerifyCache {
  private cache: BoundedCache<VerifyAnswer>;
  /** Verify is called with the same few keys over and over: their canonical forms (pure, no TTL). */
  readonly canonicalKeys: BoundedCache<string>;

  constructor(clock: Clock, ttlMs: number) {
    this.cache = new BoundedCache(clock, ttlMs);
    this.canonicalKeys = new BoundedCache(clock, Number.POSITIVE_INFINITY, 10_000);
  }

  static key(serviceId: string, namespace: string, publicKey: string): string {
    return `${serviceId}\u0000${namespace}\u0000${publicKey}`;
  }

  /** The cached answer or `lookup`'s, one lookup per key in flight (see BoundedCache.load). */
  load(key: string, lookup: () => Promise<VerifyAnswer>): Promise<VerifyAnswer> {
    return this.cache.load(key, lookup);
  }

  forget(claim: Pick<ClaimRow, "serviceId" | "namespace" | "publicKey">) {
    if (claim.serviceId)
      this.cache.delete(VerifyCache.key(claim.serviceId, claim.namespace, claim.publicKey));
  }

  /** After a service or namespace disappears: simplest correct answer is to drop everything. */
  clear() {
    this.cache.clear();
  }

  get stats() {
    return { hits: this.cache.hits, misses: this.cache.misses };
  }
}
