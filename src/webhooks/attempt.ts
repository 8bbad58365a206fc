import { and, eq, sql } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { SecretUnavailableError } from "../crypto.ts";
import { writeBatch } from "../db/client.ts";
import {
  type DeliveryRow,
  deliveries,
  deliveryAttempts,
  events,
  type WebhookRow,
  webhooks,
} from "../db/schema.ts";
import { insertWhere, onlyIfPreviousChanged } from "../db/writes.ts";
import { VERSION } from "../version.ts";
import { cancelled } from "./outbox.ts";
import { decideOutcome, type Outcome } from "./retryPolicy.ts";
import { type SendResult, sendWebhook } from "./send.ts";
import { liveSecrets } from "./service.ts";
import { signatureHeaders } from "./signature.ts";

export interface DeliveryJob {
  delivery: DeliveryRow;
  webhook: WebhookRow | null;
  payload: string;
}

/** Loads what one attempt needs: the delivery, its webhook and the event's payload. */
export async function loadJob(ctx: AppContext, deliveryId: string): Promise<DeliveryJob | null> {
  const [row] = await ctx.database.db
    .select({ delivery: deliveries, webhook: webhooks, payload: events.payload })
    .from(deliveries)
    .innerJoin(events, eq(events.id, deliveries.eventId))
    .leftJoin(webhooks, eq(webhooks.id, deliveries.webhookId))
    .where(eq(deliveries.id, deliveryId))
    .limit(1);
  return row ?? null;
}

/** The exact request of webhooks.md §3; `t` is fresh for every attempt. */
export function buildRequest(
  ctx: AppContext,
  job: DeliveryJob & { webhook: WebhookRow },
  attempt: number,
) {
  const t = Math.floor(ctx.clock.now() / 1000);
  const { delivery } = job;
  return {
    url: job.webhook.url,
    body: job.payload,
    headers: {
      "content-type": "application/json",
      "user-agent": `Sigilum-Webhooks/${VERSION}`,
      "x-sigilum-event": delivery.eventType,
      "x-sigilum-event-id": delivery.eventId,
      "x-sigilum-delivery-id": delivery.id,
      "x-sigilum-attempt": String(attempt),
      ...signatureHeaders(liveSecrets(ctx, job.webhook), delivery.eventId, t, job.payload),
    },
  };
}

/** What owners see (delivery log, test event): the key ids stay in the operator's log. */
const UNSEALABLE_SECRET =
  "cannot decrypt webhook secret: it was sealed under a master key this server does not hold (check SIGILUM_SECRET_KEY / secret.key)";

/**
 * The attempt that could not be made because this server cannot decrypt the webhook's secret
 * (another master key sealed it): logged with the key ids for the operator, and recorded like
 * any failure, so the deliveries log says why.
 */
export function unsealFailure(ctx: AppContext, webhookId: string, err: unknown): SendResult {
  if (!(err instanceof SecretUnavailableError)) throw err;
  ctx.logger.warn("cannot decrypt webhook secret", { webhook_id: webhookId, error: err.message });
  return {
    statusCode: null,
    error: UNSEALABLE_SECRET,
    retryAfterMs: null,
    durationMs: 0,
    responseExcerpt: null,
  };
}

/** The attempt's row; with `onlyIfChanged`, only if the statement before it changed a row. */
export function attemptInsert(
  deliveryId: string,
  attempt: number,
  startedAt: number,
  result: SendResult,
  onlyIfChanged: boolean,
) {
  return insertWhere(
    deliveryAttempts,
    {
      deliveryId,
      attempt,
      startedAt,
      durationMs: result.durationMs,
      statusCode: result.statusCode,
      error: result.error,
      responseExcerpt: result.responseExcerpt,
    },
    onlyIfChanged ? onlyIfPreviousChanged() : undefined,
  );
}

function describeFailure(result: SendResult): string {
  return result.error ?? `http_${result.statusCode}`;
}

/** The delivery row after this attempt, guarded on still holding the lease. */
function deliveryUpdate(
  ctx: AppContext,
  job: DeliveryJob,
  attempt: number,
  result: SendResult,
  outcome: Outcome,
  owner: string,
) {
  const now = ctx.clock.now();
  const done = outcome.kind !== "retry";
  const status =
    outcome.kind === "succeeded" ? "succeeded" : outcome.kind === "retry" ? "pending" : "failed";
  return ctx.database.db
    .update(deliveries)
    .set({
      status,
      attemptCount: attempt,
      nextAttemptAt: outcome.kind === "retry" ? now + outcome.delayMs : null,
      completedAt: done ? now : null,
      lastStatusCode: result.statusCode,
      lastError:
        outcome.kind === "succeeded"
          ? null
          : outcome.kind === "gone"
            ? "gone"
            : describeFailure(result),
      leaseOwner: null,
      leaseExpiresAt: null,
    })
    .where(and(eq(deliveries.id, job.delivery.id), eq(deliveries.leaseOwner, owner)));
}

/**
 * Success/failure bookkeeping on the webhook, plus disabling it when gone or failing too long.
 * Each statement runs only if the one before changed a row: nothing is counted for an attempt
 * whose lease was lost (its delivery update, first in the batch, then changes nothing).
 */
function webhookUpdates(ctx: AppContext, webhook: WebhookRow, outcome: Outcome) {
  const now = ctx.clock.now();
  const db = ctx.database.db;
  const mine = and(eq(webhooks.id, webhook.id), onlyIfPreviousChanged());
  if (outcome.kind === "succeeded") {
    return [
      db
        .update(webhooks)
        .set({ lastSuccessAt: now, consecutiveFailures: 0, failingSince: null })
        .where(mine),
    ];
  }
  const failingSince = webhook.failingSince ?? now;
  const reason =
    outcome.kind === "gone"
      ? "gone"
      : now - failingSince >= ctx.config.webhookDisableAfter
        ? "failing"
        : null;
  const stats = {
    lastFailureAt: now,
    consecutiveFailures: sql`${webhooks.consecutiveFailures} + 1`,
    failingSince: sql`coalesce(${webhooks.failingSince}, ${now})`,
  };
  if (reason === null) return [db.update(webhooks).set(stats).where(mine)];
  return [
    db
      .update(webhooks)
      .set({ ...stats, enabled: false, disabledReason: reason })
      .where(mine),
    db
      .update(deliveries)
      .set(cancelled(now))
      .where(
        and(
          eq(deliveries.webhookId, webhook.id),
          eq(deliveries.status, "pending"),
          onlyIfPreviousChanged(),
        ),
      ),
  ];
}

/** A delivery whose webhook is gone or disabled is cancelled instead of sent. */
async function cancelJob(ctx: AppContext, job: DeliveryJob, owner: string) {
  const now = ctx.clock.now();
  await ctx.database.db
    .update(deliveries)
    .set(cancelled(now, "webhook_disabled"))
    .where(and(eq(deliveries.id, job.delivery.id), eq(deliveries.leaseOwner, owner)));
}

/**
 * The pipeline for one leased delivery: build the signed request, send it, record the attempt,
 * and schedule the next one (or finish), all recorded in one transaction.
 */
export async function attemptDelivery(
  ctx: AppContext,
  deliveryId: string,
  owner: string,
  random: () => number,
): Promise<Outcome | null> {
  const job = await loadJob(ctx, deliveryId);
  if (!job || job.delivery.leaseOwner !== owner) return null;
  if (!job.webhook?.enabled) {
    await cancelJob(ctx, job, owner);
    return null;
  }
  const attempt = job.delivery.attemptCount + 1;
  const startedAt = ctx.clock.now();
  let result: SendResult;
  let outcome: Outcome;
  try {
    const request = buildRequest(ctx, { ...job, webhook: job.webhook }, attempt);
    result = await sendWebhook(ctx, request.url, request.headers, request.body);
    outcome = decideOutcome(result, attempt, ctx.config.webhookRetrySchedule, random);
  } catch (err) {
    // Retrying cannot help until the server holds the right key: fail now, visibly.
    result = unsealFailure(ctx, job.webhook.id, err);
    outcome = { kind: "failed", reason: "secret_unavailable" };
  }
  // The delivery update is guarded on still holding the lease; the rest follow it.
  await writeBatch(ctx.database, [
    deliveryUpdate(ctx, job, attempt, result, outcome, owner),
    attemptInsert(deliveryId, attempt, startedAt, result, true),
    ...webhookUpdates(ctx, job.webhook, outcome),
  ]);
  ctx.metrics.deliveries.inc({ outcome: outcome.kind });
  ctx.logger.info("webhook attempt", {
    delivery_id: deliveryId,
    webhook_id: job.webhook.id,
    attempt,
    status_code: result.statusCode,
    error: result.error,
    outcome: outcome.kind,
    duration_ms: result.durationMs,
  });
  return outcome;
}
