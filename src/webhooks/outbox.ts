import { and, eq, inArray, sql } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { deliveries, events, webhooks } from "../db/schema.ts";
import { insertWhere } from "../db/writes.ts";
import { newId } from "../ids.ts";

/** Enabled webhooks of the service that subscribe to `type`. */
export async function subscribers(
  ctx: AppContext,
  serviceId: string | null,
  type: string,
): Promise<string[]> {
  if (!serviceId) return [];
  const rows = await ctx.database.db
    .select({ id: webhooks.id, events: webhooks.events })
    .from(webhooks)
    .where(and(eq(webhooks.serviceId, serviceId), eq(webhooks.enabled, true)));
  return rows.filter((w) => (JSON.parse(w.events) as string[]).includes(type)).map((w) => w.id);
}

/**
 * One pending delivery per subscriber, for use in the same batch as the event row: each insert
 * happens only if the event row exists (a guarded transition may have written none) and the
 * webhook is still enabled when the batch commits.
 */
export function deliveryInserts(eventId: string, type: string, webhookIds: string[], now: number) {
  const eventExists = sql`EXISTS (SELECT 1 FROM ${events} WHERE ${events.id} = ${eventId})`;
  return webhookIds.map((webhookId) =>
    insertWhere(
      deliveries,
      {
        id: newId.delivery(),
        eventId,
        webhookId,
        eventType: type,
        status: "pending",
        attemptCount: 0,
        nextAttemptAt: now,
        createdAt: now,
      },
      and(
        eventExists,
        sql`EXISTS (SELECT 1 FROM ${webhooks} WHERE ${webhooks.id} = ${webhookId} AND ${webhooks.enabled} = 1)`,
      ),
    ),
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
