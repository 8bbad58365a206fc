import type { Clock } from "../clock.ts";
import { rateLimited } from "./errors.ts";

interface Window {
  start: number;
  count: number;
}

/**
 * Fixed-window counters in memory. Per-process by design: limits are abuse brakes, and with N
 * instances the effective limit is at most N times the setting (documented in the README).
 */
export class RateLimiter {
  private windows = new Map<string, Window>();

  constructor(
    private clock: Clock,
    private windowMs = 60_000,
  ) {}

  /** Counts one hit for `key`; throws 429 RATE_LIMITED with Retry-After when over `limit`. */
  hit(key: string, limit: number): void {
    const now = this.clock.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (this.windows.size > 100_000) this.prune(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count > limit)
      throw rateLimited(Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000)));
  }

  private prune(now: number) {
    for (const [key, w] of this.windows)
      if (now - w.start >= this.windowMs) this.windows.delete(key);
  }
}
