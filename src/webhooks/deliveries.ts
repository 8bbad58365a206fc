import { and, asc, desc, eq, gte, inArray, lte, sql } from "drizzle-orm";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { findOr404, pagedRows, writeBatch } from "../db/client.ts";
import {
  type DeliveryRow,
  type DeliveryStatus,
  deliveries,
  deliveryAttempts,
  events,
} from "../db/schema.ts";
import { insertWhere } from "../db/writes.ts";
import { ApiError, conflict, validationError } from "../http/errors.ts";
import type { Page } from "../http/pagination.ts";
import { newId } from "../ids.ts";
import { findOwnedService } from "../services/index.ts";
import { attemptInsert, buildRequest, unsealFailure } from "./attempt.ts";
import { isSuccess } from "./retryPolicy.ts";
import { type SendResult, sendWebhook } from "./send.ts";
import { findWebhook } from "./service.ts";

const RECOVER_WINDOW_MS = 14 * 86_400_000;

export function deliveryView(row: DeliveryRow) {
  return {
    id: row.id,
    event_id: row.eventId,
    event: row.eventType,
    status: row.status,
    attempt_count: row.attemptCount,
    next_attempt_at: toIso(row.nextAttemptAt),
    created_at: toIso(row.createdAt),
    completed_at: toIso(row.completedAt),
    last_status_code: row.lastStatusCode,
    last_error: row.lastError,
  };
}

export async function listDeliveries(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  webhookId: string,
  status: DeliveryStatus | undefined,
  page: Page,
) {
  await findWebhook(ctx, ownerId, serviceId, webhookId);
  const where = and(
    eq(deliveries.webhookId, webhookId),
    status ? eq(deliveries.status, status) : undefined,
  );
  const { rows, total } = await pagedRows(ctx.database, deliveries, {
    where,
    orderBy: [desc(deliveries.createdAt), desc(deliveries.id)],
    page,
  });
  return { items: rows.map(deliveryView), total };
}

async function findDelivery(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  webhookId: string,
  deliveryId: string,
) {
  await findWebhook(ctx, ownerId, serviceId, webhookId);
  const owned = and(eq(deliveries.id, deliveryId), eq(deliveries.webhookId, webhookId));
  return findOr404(ctx.database, deliveries, owned, "Delivery");
}

export async function getDelivery(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  webhookId: string,
  deliveryId: string,
) {
  const row = await findDelivery(ctx, ownerId, serviceId, webhookId, deliveryId);
  const [attempts, [event]] = await Promise.all([
    ctx.database.db
      .select()
      .from(deliveryAttempts)
      .where(eq(deliveryAttempts.deliveryId, row.id))
      .orderBy(asc(deliveryAttempts.attempt), asc(deliveryAttempts.id)),
    ctx.database.db
      .select({ payload: events.payload })
      .from(events)
      .where(eq(events.id, row.eventId)),
  ]);
  return {
    ...deliveryView(row),
    // The body every attempt sends (the event row outlives its deliveries' retention).
    payload: event ? (JSON.parse(event.payload) as Record<string, unknown>) : null,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      started_at: toIso(a.startedAt),
      duration_ms: a.durationMs,
      status_code: a.statusCode,
      error: a.error,
      response_excerpt: a.responseExcerpt,
    })),
  };
}

function freshDelivery(
  ctx: AppContext,
  eventId: string,
  eventType: string,
  webhookId: string,
): DeliveryRow {
  const now = ctx.clock.now();
  return {
    id: newId.delivery(),
    eventId,
    webhookId,
    eventType,
    status: "pending",
    attemptCount: 0,
    nextAttemptAt: now,
    leaseOwner: null,
    leaseExpiresAt: null,
    createdAt: now,
    completedAt: null,
    lastStatusCode: null,
    lastError: null,
  };
}

function requireEnabled(webhook: { enabled: boolean }) {
  if (!webhook.enabled)
    throw conflict("CONFLICT", "The webhook is disabled; enable it (PATCH enabled: true) first");
}

/** A fresh delivery of the same event (same event id, so receivers can dedupe). */
export async function redeliver(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  webhookId: string,
  deliveryId: string,
) {
  const original = await findDelivery(ctx, ownerId, serviceId, webhookId, deliveryId);
  requireEnabled(await findWebhook(ctx, ownerId, serviceId, webhookId));
  const row = freshDelivery(ctx, original.eventId, original.eventType, webhookId);
  await ctx.database.db.insert(deliveries).values(row);
  ctx.deliveryWorker.wake();
  return deliveryView(row);
}

function recoveryWindow(ctx: AppContext, since: string, until: string | undefined) {
  const now = ctx.clock.now();
  const from = Date.parse(since);
  const to = until === undefined ? now : Date.parse(until);
  if (Number.isNaN(from)) throw validationError("since", "must be an ISO 8601 timestamp");
  if (Number.isNaN(to)) throw validationError("until", "must be an ISO 8601 timestamp");
  if (from < now - RECOVER_WINDOW_MS) throw validationError("since", "must be at most 14 days ago");
  if (from > now) throw validationError("since", "must not be in the future");
  if (to < from) throw validationError("until", "must not be before since");
  return { from, to };
}

/**
 * A fresh delivery of the event, unless one to this webhook is already pending or succeeded:
 * checked in the INSERT itself, so repeated or concurrent recovers queue each event once.
 */
function requeueOnce(row: DeliveryRow) {
  const queued = and(
    eq(deliveries.eventId, row.eventId),
    eq(deliveries.webhookId, row.webhookId),
    inArray(deliveries.status, ["pending", "succeeded"]),
  );
  return insertWhere(
    deliveries,
    {
      id: row.id,
      eventId: row.eventId,
      webhookId: row.webhookId,
      eventType: row.eventType,
      status: "pending",
      attemptCount: 0,
      nextAttemptAt: row.nextAttemptAt,
      createdAt: row.createdAt,
    },
    sql`NOT EXISTS (SELECT 1 FROM ${deliveries} WHERE ${queued})`,
  );
}

/**
 * Re-queues every failed or cancelled delivery of the window (dead letters, and the backlog a
 * disable cancelled) as a fresh delivery of its event, once per event, and only for events that
 * have no pending or succeeded delivery to this webhook (idempotent).
 */
export async function recover(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  webhookId: string,
  input: { since: string; until?: string },
) {
  requireEnabled(await findWebhook(ctx, ownerId, serviceId, webhookId));
  const { from, to } = recoveryWindow(ctx, input.since, input.until);
  const failed = await ctx.database.db
    .select({ eventId: deliveries.eventId, eventType: deliveries.eventType })
    .from(deliveries)
    .where(
      and(
        eq(deliveries.webhookId, webhookId),
        inArray(deliveries.status, ["failed", "cancelled"]),
        gte(deliveries.createdAt, from),
        lte(deliveries.createdAt, to),
      ),
    );
  const byEvent = new Map(failed.map((f) => [f.eventId, f.eventType]));
  const rows = [...byEvent].map(([eventId, type]) => freshDelivery(ctx, eventId, type, webhookId));
  const results = rows.length > 0 ? await writeBatch(ctx.database, rows.map(requeueOnce)) : [];
  const requeued = results.reduce((n, rs) => n + rs.rowsAffected, 0);
  if (requeued > 0) ctx.deliveryWorker.wake();
  return { requeued };
}

/** The test event's one attempt and its outcome; true when it succeeded. */
async function recordTestAttempt(
  ctx: AppContext,
  deliveryId: string,
  startedAt: number,
  result: SendResult,
): Promise<boolean> {
  const success = isSuccess(result);
  await writeBatch(ctx.database, [
    attemptInsert(deliveryId, 1, startedAt, result, false),
    ctx.database.db
      .update(deliveries)
      .set({
        status: success ? "succeeded" : "failed",
        attemptCount: 1,
        completedAt: ctx.clock.now(),
        lastStatusCode: result.statusCode,
        lastError: success ? null : (result.error ?? `http_${result.statusCode}`),
      })
      .where(eq(deliveries.id, deliveryId)),
  ]);
  return success;
}

/** `webhook.test`, sent now and outside the retry machinery; recorded like any other attempt. */
export async function sendTestEvent(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  webhookId: string,
) {
  const service = await findOwnedService(ctx, ownerId, serviceId);
  const webhook = await findWebhook(ctx, ownerId, serviceId, webhookId);
  requireEnabled(webhook); // disabled webhooks receive nothing, test events included
  const now = ctx.clock.now();
  const eventId = newId.event();
  const payload = JSON.stringify({
    id: eventId,
    event: "webhook.test",
    timestamp: toIso(now),
    data: { webhook_id: webhook.id, service: service.slug, message: "Test event from Sigilum" },
  });
  // Recorded as failed ("interrupted") until the attempt finishes, so a crash mid-send leaves
  // nothing pending that no worker would ever pick up.
  const delivery: DeliveryRow = {
    ...freshDelivery(ctx, eventId, "webhook.test", webhook.id),
    status: "failed",
    nextAttemptAt: null,
    lastError: "interrupted",
  };
  await writeBatch(ctx.database, [
    ctx.database.db.insert(events).values({
      id: eventId,
      serviceId,
      claimId: null,
      type: "webhook.test",
      payload,
      createdAt: now,
    }),
    ctx.database.db.insert(deliveries).values(delivery),
  ]);
  let request: ReturnType<typeof buildRequest>;
  try {
    request = buildRequest(ctx, { delivery, webhook, payload }, 1);
  } catch (err) {
    await recordTestAttempt(ctx, delivery.id, now, unsealFailure(ctx, webhook.id, err));
    throw new ApiError(
      500,
      "SECRET_UNAVAILABLE",
      "Cannot decrypt this webhook's signing secret: it was sealed under a master key this server does not hold; the operator must start it with that key (SIGILUM_SECRET_KEY or the data dir's secret.key)",
    );
  }
  const result = await sendWebhook(ctx, request.url, request.headers, request.body);
  const success = await recordTestAttempt(ctx, delivery.id, now, result);
  return {
    delivery_id: delivery.id,
    status_code: result.statusCode,
    duration_ms: result.durationMs,
    success,
    ...(success ? {} : { error: result.error ?? `http_${result.statusCode}` }),
  };
}
