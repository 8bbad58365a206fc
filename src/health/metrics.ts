import { and, count, eq, min } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { deliveries } from "../db/schema.ts";
import type { ScrapedMetric } from "../metrics.ts";

/** Read at scrape time: the delivery queue (gauges) and the caches' hits and misses (counters). */
export async function scrapeMetrics(ctx: AppContext): Promise<ScrapedMetric[]> {
  const [queue] = await ctx.database.db
    .select({ depth: count(), oldest: min(deliveries.createdAt) })
    .from(deliveries)
    .where(and(eq(deliveries.status, "pending")));
  const now = ctx.clock.now();
  const caches = { verify: ctx.verifyCache.stats, api_key: ctx.keyCache.stats };
  return [
    {
      name: "sigilum_webhook_queue_depth",
      help: "Pending webhook deliveries",
      value: queue?.depth ?? 0,
    },
    {
      name: "sigilum_webhook_oldest_pending_seconds",
      help: "Age of the oldest pending webhook delivery",
      value: queue?.oldest ? Math.max(0, (now - queue.oldest) / 1000) : 0,
    },
    {
      name: "sigilum_webhook_in_flight",
      help: "Delivery attempts in flight in this process",
      value: ctx.deliveryWorker.inFlightCount,
    },
    ...(["hits", "misses"] as const).flatMap((outcome) =>
      Object.entries(caches).map(([cache, stats]) => ({
        name: `sigilum_cache_${outcome}_total`,
        help: `Cache ${outcome} since start`,
        type: "counter" as const,
        value: stats[outcome],
        labels: { cache },
      })),
    ),
  ];
}
