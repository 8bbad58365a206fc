import type { ClaimStatsModel } from "../../claims/index.ts";
import type { DeliveryStatsModel } from "../../webhooks/index.ts";
import { api } from "./api.ts";
import { apiPath } from "./ids.ts";

// The stats routes' response types are the server's models (type-only imports, erased from the
// bundle); this module turns them into the bars the overview charts draw.

type ClaimStats = typeof ClaimStatsModel.static;
type DeliveryStats = typeof DeliveryStatsModel.static;

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

/** One bar per day, oldest first; approved bars include the auto-approved requests. */
export function mapClaimStats(body: ClaimStats): DayBar[] {
  return body.buckets.map((d) => ({
    date: d.day,
    approved: d.approved + d.auto_approved,
    rejected: d.rejected,
    pending: d.pending,
    other: d.revoked + d.expired,
  }));
}

/** A delivery that failed and waits for its next attempt counts as failed in the chart. */
export function mapDeliveryStats(body: DeliveryStats): WebhookSeries[] {
  return body.webhooks.map((w) => ({
    id: w.webhook_id,
    label: w.url,
    hours: w.buckets.map((h) => ({
      hour: h.hour,
      succeeded: h.succeeded,
      failed: h.failed + h.retrying,
    })),
  }));
}

/** `GET /v1/namespaces/{ns}/stats/claims?days=30`. */
export async function loadClaimStats(namespace: string): Promise<DayBar[]> {
  const path = apiPath("/v1/namespaces/{namespace}/stats/claims", { namespace });
  return mapClaimStats(await api.get<ClaimStats>(path, { days: 30 }));
}

/** `GET /v1/namespaces/{ns}/stats/webhooks?hours=24`. */
export async function loadDeliveryStats(namespace: string): Promise<WebhookSeries[]> {
  const path = apiPath("/v1/namespaces/{namespace}/stats/webhooks", { namespace });
  return mapDeliveryStats(await api.get<DeliveryStats>(path, { hours: 24 }));
}
