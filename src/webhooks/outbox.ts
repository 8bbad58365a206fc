import { and, eq, inArray, sql } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { compile, readRows } from "../db/compiled.ts";
import { deliveries, events, webhooks } from "../db/schema.ts";
import { insertWhere } from "../db/writes.ts";
import { newId } from "../ids.ts";

const SUBSCRIBERS = compile<"serviceId">(
  (p) =>
    sql`SELECT ${webhooks.id} AS id, ${webhooks.events} AS events FROM ${webhooks}
    WHERE ${webhooks.serviceId} = ${p("serviceId")} AND ${webhooks.enabled} = 1`,
);

/** Enabled webhooks of the service that subscribe to `type`. */
export async function subscribers(
  ctx: AppContext,
  serviceId: string | null,
  type: string,
): Promise<string[]> {
  if (!serviceId) return [];
  const rows = await readRows<{ id: string; events: string }>(
    ctx.database,
    SUBSCRIBERS.bind({ serviceId }),
  );
  return rows.filter((w) => (JSON.parse(w.events) as string[]).includes(type)).map((w) => w.id);
}

type DeliveryParam = "id" | "eventId" | "webhookId" | "type" | "now";

/**
 * One pending delivery, written only if its event row exists (a guarded transition may have
 * written none) and the webhook is still enabled when the batch commits.
 */
const DELIVERY_INSERT = compile<DeliveryParam>((p) =>
  insertWhere(
    deliveries,
    {
      id: p("id"),
      eventId: p("eventId"),
      webhookId: p("webhookId"),
      eventType: p("type"),
      status: "pending",
      attemptCount: 0,
      nextAttemptAt: p("now"),
      createdAt: p("now"),
    },
    and(
      sql`EXISTS (SELECT 1 FROM ${events} WHERE ${events.id} = ${p("eventId")})`,
      sql`EXISTS (SELECT 1 FROM ${webhooks} WHERE ${webhooks.id} = ${p("webhookId")} AND ${webhooks.enabled} = 1)`,
    ),
  ),
);

/** One pending delivery per subscriber, for use in the same batch as the event row. */
export function deliveryInserts(eventId: string, type: string, webhookIds: string[], now: number) {
  return webhookIds.map((webhookId) =>
    DELIVERY_INSERT.bind({ id: newId.delivery(), eventId, webhookId, type, now }),
  );
}

/** The columns of a delivery that will not be attempted (again): finished now, lease dropped. */
export function cancelled(now: number, lastError?: string) {
  return {
    status: "cancelled" as const,
    completedAt: now,
    nextAttemptAt: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    ...(lastError ? { lastError } : {}),
  };
}

/** Cancels what is still pending for these webhooks (disabled, deleted, gone, failing). */
export function cancelPendingFor(ctx: AppContext, webhookIds: string[], now: number) {
  return ctx.database.db
    .update(deliveries)
    .set(cancelled(now))
    .where(and(eq(deliveries.status, "pending"), inArray(deliveries.webhookId, webhookIds)));
}
