import { and, asc, count, eq, gte, inArray, sql } from "drizzle-orm";
import { t } from "elysia";
import { ownNamespace } from "../auth/index.ts";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { deliveries, type Owner, services, webhooks } from "../db/schema.ts";
import { DOC_AS, integerParam } from "../http/pagination.ts";

const HOUR_MS = 3_600_000;
const MAX_HOURS = 168;

export const DeliveryStatsQuery = t.Object(
  {
    hours: t.Optional(
      t.String({
        description: `decimal integer 1–${MAX_HOURS}, default 24: UTC hours up to and including the current one`,
        [DOC_AS]: { type: "integer", minimum: 1, maximum: MAX_HOURS, default: 24 },
      }),
    ),
  },
  { additionalProperties: false },
);

const HourBucket = t.Object({
  hour: t.String({ description: "start of the UTC hour (ISO 8601)" }),
  succeeded: t.Integer(),
  failed: t.Integer({ description: "gave up: retries exhausted or the webhook disabled" }),
  retrying: t.Integer({ description: "attempted and failed, another attempt scheduled" }),
  pending: t.Integer({ description: "not attempted yet" }),
  cancelled: t.Integer({ description: "dropped before delivery (webhook deleted or changed)" }),
});
type Bucket = typeof HourBucket.static;
type Outcome = Exclude<keyof Bucket, "hour">;

export const DeliveryStatsModel = t.Object(
  {
    namespace: t.String(),
    hours: t.Integer(),
    from: t.String({ description: "start of the first hour (inclusive)" }),
    to: t.String({ description: "end of the last hour (exclusive)" }),
    webhooks: t.Array(
      t.Object({
        webhook_id: t.String(),
        url: t.String(),
        service_id: t.String(),
        service: t.String({ description: "the service's slug" }),
        buckets: t.Array(HourBucket, {
          description:
            "One per UTC hour, oldest first, zero-filled: the deliveries created that hour, by where each stands now",
        }),
      }),
    ),
  },
  { description: "Webhook delivery outcomes per hour, per webhook of the namespace's services" },
);

/** The webhooks of the owner's services (services_owner_idx, then webhooks_service_idx). */
export function ownerWebhooks(ctx: AppContext, ownerId: string) {
  return ctx.database.db
    .select({ id: webhooks.id, url: webhooks.url, serviceId: services.id, slug: services.slug })
    .from(services)
    .innerJoin(webhooks, eq(webhooks.serviceId, services.id))
    .where(eq(services.ownerId, ownerId))
    .orderBy(asc(services.slug), asc(webhooks.createdAt), asc(webhooks.id));
}

/** Deliveries created since `from` per (webhook, UTC hour number, status, attempted). */
export function countsByHour(ctx: AppContext, webhookIds: string[], from: number) {
  // Inlined: a bound JS number arrives as a REAL, which would make the division fractional.
  const hour = sql<number>`${deliveries.createdAt} / ${sql.raw(String(HOUR_MS))}`;
  const attempted = sql<number>`${deliveries.attemptCount} > 0`;
  return ctx.database.db
    .select({
      webhookId: deliveries.webhookId,
      hour,
      status: deliveries.status,
      attempted,
      n: count(),
    })
    .from(deliveries)
    .where(and(inArray(deliveries.webhookId, webhookIds), gte(deliveries.createdAt, from)))
    .groupBy(deliveries.webhookId, hour, deliveries.status, attempted);
}

function outcomeOf(status: string, attempted: boolean): Outcome {
  if (status === "pending") return attempted ? "retrying" : "pending";
  return status as Outcome;
}

/**
 * Delivery outcomes per UTC hour over the last `hours` hours, per webhook of the namespace's
 * services, counted by the hour each delivery was created and where it stands now. Indexed
 * reads only (deliveries_webhook_idx on (webhook_id, created_at)); grouped in SQL.
 */
export async function deliveryStats(
  ctx: AppContext,
  owner: Owner,
  namespace: string,
  query: { hours?: string },
) {
  ownNamespace(owner, namespace);
  const hours = integerParam("hours", query.hours, 24, 1, MAX_HOURS);
  const firstHour = Math.floor(ctx.clock.now() / HOUR_MS) - (hours - 1);
  const from = firstHour * HOUR_MS;
  const hooks = await ownerWebhooks(ctx, owner.id);
  const rows =
    hooks.length > 0
      ? await countsByHour(
          ctx,
          hooks.map((h) => h.id),
          from,
        )
      : [];
  const bucketsOf = new Map(
    hooks.map((h) => [
      h.id,
      Array.from({ length: hours }, (_, i) => ({
        hour: toIso((firstHour + i) * HOUR_MS),
        succeeded: 0,
        failed: 0,
        retrying: 0,
        pending: 0,
        cancelled: 0,
      })),
    ]),
  );
  for (const row of rows) {
    const bucket = bucketsOf.get(row.webhookId)?.[row.hour - firstHour];
    if (bucket) bucket[outcomeOf(row.status, Boolean(row.attempted))] += row.n;
  }
  return {
    namespace: owner.namespace,
    hours,
    from: toIso(from),
    to: toIso((firstHour + hours) * HOUR_MS),
    webhooks: hooks.map((h) => ({
      webhook_id: h.id,
      url: h.url,
      service_id: h.serviceId,
      service: h.slug,
      buckets: bucketsOf.get(h.id)!,
    })),
  };
}
