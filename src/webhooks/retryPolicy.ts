/** The retry policy in one place (webhooks.md §4), as data plus one function. */
export interface AttemptResult {
  statusCode: number | null;
  /** e.g. "timeout", "connection_error", "blocked_destination", "dns_error" (or "dns_error: ENOTFOUND" with the resolver's code), "tls_error". */
  error: string | null;
  /** From Retry-After on 429/503, in ms. */
  retryAfterMs: number | null;
}

export type Outcome =
  | { kind: "succeeded" }
  | { kind: "retry"; delayMs: number }
  | { kind: "failed"; reason: "exhausted" | "secret_unavailable" }
  | { kind: "gone" };

const MIN_AFTER_TIMEOUT_OR_429 = 60_000;
const MAX_RETRY_AFTER = 24 * 3_600_000;
const JITTER = 0.2;

export function isSuccess(result: AttemptResult): boolean {
  return (
    result.error === null &&
    result.statusCode !== null &&
    result.statusCode >= 200 &&
    result.statusCode < 300
  );
}

/**
 * After attempt number `attempt` (1-based): success, 410 → gone, else the next scheduled delay
 * with ±20 % jitter, raised to Retry-After (capped at 2× the delay and 24 h) and to 60 s after a
 * timeout or 429; past the end of the schedule the delivery has failed.
 */
export function decideOutcome(
  result: AttemptResult,
  attempt: number,
  schedule: number[],
  random: () => number,
): Outcome {
  if (isSuccess(result)) return { kind: "succeeded" };
  if (result.statusCode === 410) return { kind: "gone" };
  const base = schedule[attempt - 1];
  if (base === undefined) return { kind: "failed", reason: "exhausted" };
  let delayMs = base * (1 - JITTER + 2 * JITTER * random());
  if (result.error === "timeout" || result.statusCode === 429)
    delayMs = Math.max(delayMs, MIN_AFTER_TIMEOUT_OR_429);
  if ((result.statusCode === 429 || result.statusCode === 503) && result.retryAfterMs !== null) {
    delayMs = Math.max(delayMs, Math.min(result.retryAfterMs, 2 * base, MAX_RETRY_AFTER));
  }
  return { kind: "retry", delayMs: Math.round(delayMs) };
}

/** Retry-After as seconds or an HTTP date → ms from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
