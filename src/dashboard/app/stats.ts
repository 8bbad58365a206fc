import { ApiError, api } from "./api.ts";
import { apiPath } from "./ids.ts";

// The stats routes are the API's (documented in /openapi.json); this module is the only place that
// knows their response shapes, so a change of shape is a change here only.

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

const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);

/**
 * `GET /v1/namespaces/{ns}/stats/claims?days=30` → `{ buckets: [{ day: "YYYY-MM-DD", pending,
 * approved, auto_approved, rejected, revoked, expired, total }] }`, oldest first. Approved bars
 * include the auto-approved ones.
 */
export function mapClaimStats(body: unknown): DayBar[] {
  return list((body as Json | null)?.buckets).map((d) => ({
    date: str(d.day).slice(0, 10),
    approved: num(d.approved) + num(d.auto_approved),
    rejected: num(d.rejected),
    pending: num(d.pending),
    other: num(d.revoked) + num(d.expired),
  }));
}

/**
 * `GET /v1/namespaces/{ns}/stats/webhooks?hours=24` → `{ webhooks: [{ webhook_id, url, service,
 * buckets: [{ hour, succeeded, failed, retrying, pending, cancelled }] }] }`. A delivery that
 * failed and waits for its next attempt counts as failed in the chart.
 */
export function mapDeliveryStats(body: unknown): WebhookSeries[] {
  return list((body as Json | null)?.webhooks).map((w) => ({
    id: str(w.webhook_id),
    label: str(w.url),
    hours: list(w.buckets).map((h) => ({
      hour: str(h.hour),
      succeeded: num(h.succeeded),
      failed: num(h.failed) + num(h.retrying),
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
  const path = apiPath("/v1/namespaces/{namespace}/stats/webhooks", { namespace });
  return optional(async () => mapDeliveryStats(await api.get(path, { hours: 24 })));
}
