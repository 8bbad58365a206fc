import type { Clock } from "../clock.ts";
import { rateLimited } from "./errors.ts";

interface Window {
  start: number;
  count: number;
  length: number;
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
  hit(key: string, limit: number, windowMs = this.windowMs): void {
    const w = this.current(key, windowMs);
    w.count++;
    if (w.count > limit) throw rateLimited(this.retryAfter(w));
  }

  /** Throws 429 when `key` has already used up `limit` in its window; counts nothing. */
  check(key: string, limit: number): void {
    const w = this.windows.get(key);
    if (w && this.clock.now() - w.start < w.length && w.count >= limit)
      throw rateLimited(this.retryAfter(w));
  }

  /** Counts one hit for `key` without a limit (the caller checked first). */
  add(key: string, windowMs = this.windowMs): void {
    this.current(key, windowMs).count++;
  }

  /** Takes back one hit of the current window (it turned out not to count). */
  refund(key: string): void {
    const w = this.windows.get(key);
    if (w && w.count > 0) w.count--;
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private current(key: string, windowMs: number): Window {
    const now = this.clock.now();
    let w = this.windows.get(key);
    if (!w || now - w.start >= w.length) {
      if (this.windows.size > 100_000) this.prune(now);
      w = { start: now, count: 0, length: windowMs };
      this.windows.set(key, w);
    }
    return w;
  }

  private retryAfter(w: Window): number {
    return Math.max(1, Math.ceil((w.start + w.length - this.clock.now()) / 1000));
  }

  private prune(now: number) {
    for (const [key, w] of this.windows) if (now - w.start >= w.length) this.windows.delete(key);
  }
}
