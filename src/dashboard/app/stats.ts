import { ApiError, api } from "./api.ts";
import { apiPath } from "./ids.ts";

// The stats routes are the API's (documented there); this module is the only place that knows
// their response shapes, so a change of shape is a change here only.

export interface DayBar {
  /** YYYY-MM-DD (UTC). */
  date: string;
  approved: number;
  rejected: number;
  pending: number;
  /** revoked + expired */
  other: number;
}

export interface HourBar {
  /** ISO start of the hour. */
  hour: string;
  succeeded: number;
  failed: number;
}

export interface WebhookSeries {
  id: string;
  label: string;
  hours: HourBar[];
}

type Json = Record<string, unknown>;
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const str = (v: unknown) => (typeof v === "string" ? v : "");

/**
 * Assumed shape of `GET /v1/namespaces/{ns}/stats/claims?days=30`:
 * `{ days: [{ date: "2026-11-01", approved, rejected, pending, revoked, expired }] }`
 * (counts may also sit under `counts` or `by_outcome`; `submitted` is ignored).
 */
export function mapClaimStats(body: unknown): DayBar[] {
  const root = (body ?? {}) as Json;
  const list = (root.days ?? root.buckets ?? root.series ?? []) as Json[];
  return list.map((d) => {
    const c = ((d.counts ?? d.by_outcome ?? d) as Json) ?? {};
    return {
      date: str(d.date ?? d.day ?? d.start).slice(0, 10),
      approved: num(c.approved),
      rejected: num(c.rejected),
      pending: num(c.pending),
      other: num(c.revoked) + num(c.expired),
    };
  });
}

/**
 * Assumed shape of `GET /v1/namespaces/{ns}/stats/deliveries?hours=24`:
 * `{ webhooks: [{ webhook_id, url, hours: [{ hour: ISO, succeeded, failed }] }] }`.
 */
export function mapDeliveryStats(body: unknown): WebhookSeries[] {
  const root = (body ?? {}) as Json;
  const list = (root.webhooks ?? []) as Json[];
  return list.map((w) => ({
    id: str(w.webhook_id ?? w.id),
    label: str(w.url ?? w.webhook_id ?? w.id),
    hours: ((w.hours ?? w.buckets ?? []) as Json[]).map((h) => ({
      hour: str(h.hour ?? h.start),
      succeeded: num(h.succeeded ?? h.success),
      failed: num(h.failed ?? h.failure),
    })),
  }));
}

/** null when the server has no stats route (404): the page says "not available". */
async function optional<T>(load: () => Promise<T>): Promise<T | null> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export function loadClaimStats(namespace: string) {
  const path = apiPath("/v1/namespaces/{namespace}/stats/claims", { namespace });
  return optional(async () => mapClaimStats(await api.get(path, { days: 30 })));
}

export function loadDeliveryStats(namespace: string) {
  const path = apiPath("/v1/namespaces/{namespace}/stats/deliveries", { namespace });
  return optional(async () => mapDeliveryStats(await api.get(path, { hours: 24 })));
}
