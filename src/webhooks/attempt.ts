import { and, eq, sql } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { SecretUnavailableError } from "../crypto.ts";
import { writeBatch } from "../db/client.ts";
import { type Bind, compileWithDb } from "../db/compiled.ts";
import { type DeliveryRow, deliveries, deliveryAttempts, webhooks } from "../db/schema.ts";
import { compiledRowInsert, onlyIfPreviousChanged } from "../db/writes.ts";
import { VERSION } from "../version.ts";
import type { SendingWebhook } from "./lease.ts";
import { cancelled } from "./outbox.ts";
import { decideOutcome, type Outcome } from "./retryPolicy.ts";
import { type SendResult, sendWebhook } from "./send.ts";
import { liveSecrets } from "./service.ts";
import { signatureHeaders } from "./signature.ts";

/** What one attempt needs, all read by the round that leased it (worker.ts): no query per attempt. */
export interface DeliveryJob {
  delivery: Pick<DeliveryRow, "id" | "eventId" | "eventType" | "attemptCount">;
  webhook: SendingWebhook | null;
  payload: string;
}

/** The exact request of webhooks.md §3; `t` is fresh for every attempt. */
export function buildRequest(
  ctx: AppContext,
  job: DeliveryJob & { webhook: SendingWebhook },
  attempt: number,
  secrets: () => string[] = () => liveSecrets(ctx, job.webhook),
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
      ...signatureHeaders(secrets(), delivery.eventId, t, job.payload),
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

function describeFailure(result: SendResult): string {
  return result.error ?? `http_${result.statusCode}`;
}

/** The delivery row after an attempt, guarded on still holding the lease. */
const deliveryAfterAttempt = compileWithDb((p, db) =>
  db
    .update(deliveries)
    .set({
      status: p("status"),
      attemptCount: p("attempt"),
      nextAttemptAt: p("nextAttemptAt"),
      completedAt: p("completedAt"),
      lastStatusCode: p("statusCode"),
      lastError: p("lastError"),
      leaseOwner: null,
      leaseExpiresAt: null,
    })
    .where(and(eq(deliveries.id, p("id")), eq(deliveries.leaseOwner, p("owner")))),
);

/** The attempt's row; guarded, only if the delivery update before it won (the lease was held). */
const ATTEMPT_ROW = compiledRowInsert(deliveryAttempts, {
  deliveryId: "deliveryId",
  attempt: "attempt",
  startedAt: "startedAt",
  durationMs: "durationMs",
  statusCode: "statusCode",
  error: "error",
  responseExcerpt: "responseExcerpt",
});

/** The attempt's row; with `onlyIfChanged`, only if the statement before it changed a row. */
export function attemptInsert(
  deliveryId: string,
  attempt: number,
  startedAt: number,
  result: SendResult,
  onlyIfChanged: boolean,
) {
  return ATTEMPT_ROW(onlyIfChanged).bind({
    deliveryId,
    attempt,
    startedAt,
    durationMs: result.durationMs,
    statusCode: result.statusCode,
    error: result.error,
    responseExcerpt: result.responseExcerpt,
  });
}

const succeededOn = compileWithDb((p, db) =>
  db
    .update(webhooks)
    .set({ lastSuccessAt: p("now"), consecutiveFailures: 0, failingSince: null })
    .where(and(eq(webhooks.id, p("id")), onlyIfPreviousChanged())),
);

const failureStats = (p: Bind<string>) => ({
  lastFailureAt: p("now"),
  consecutiveFailures: sql`${webhooks.consecutiveFailures} + 1`,
  failingSince: sql`coalesce(${webhooks.failingSince}, ${p("now")})`,
});

const failedOn = compileWithDb((p, db) =>
  db
    .update(webhooks)
    .set(failureStats(p))
    .where(and(eq(webhooks.id, p("id")), onlyIfPreviousChanged())),
);

const disabledAfterFailure = compileWithDb((p, db) =>
  db
    .update(webhooks)
    .set({ ...failureStats(p), enabled: false, disabledReason: p("reason") })
    .where(and(eq(webhooks.id, p("id")), onlyIfPreviousChanged())),
);

const pendingCancelled = compileWithDb((p, db) =>
  db
    .update(deliveries)
    .set({ ...cancelled(0), completedAt: p("now") })
    .where(
      and(
        eq(deliveries.webhookId, p("webhookId")),
        eq(deliveries.status, "pending"),
        onlyIfPreviousChanged(),
      ),
    ),
);

const leasedCancelled = compileWithDb((p, db) =>
  db
    .update(deliveries)
    .set({ ...cancelled(0, "webhook_disabled"), completedAt: p("now") })
    .where(and(eq(deliveries.id, p("id")), eq(deliveries.leaseOwner, p("owner")))),
);

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
  return deliveryAfterAttempt(ctx.database.db).bind({
    status:
      outcome.kind === "succeeded" ? "succeeded" : outcome.kind === "retry" ? "pending" : "failed",
    attempt,
    nextAttemptAt: outcome.kind === "retry" ? now + outcome.delayMs : null,
    completedAt: done ? now : null,
    statusCode: result.statusCode,
    lastError:
      outcome.kind === "succeeded"
        ? null
        : outcome.kind === "gone"
          ? "gone"
          : describeFailure(result),
    id: job.delivery.id,
    owner,
  });
}

/**
 * Success/failure bookkeeping on the webhook, plus disabling it when gone or failing too long.
 * Each statement runs only if the one before changed a row: nothing is counted for an attempt
 * whose lease was lost (its delivery update, first in the batch, then changes nothing).
 */
function webhookUpdates(ctx: AppContext, webhook: SendingWebhook, outcome: Outcome) {
  const now = ctx.clock.now();
  if (outcome.kind === "succeeded")
    return [succeededOn(ctx.database.db).bind({ now, id: webhook.id })];
  const failingSince = webhook.failingSince ?? now;
  const reason =
    outcome.kind === "gone"
      ? "gone"
      : now - failingSince >= ctx.config.webhookDisableAfter
        ? "failing"
        : null;
  if (reason === null) return [failedOn(ctx.database.db).bind({ now, id: webhook.id })];
  return [
    disabledAfterFailure(ctx.database.db).bind({ now, id: webhook.id, reason }),
    pendingCancelled(ctx.database.db).bind({ now, webhookId: webhook.id }),
  ];
}

/**
 * The pipeline for one leased delivery: build the signed request (a fresh timestamp and
 * signature per attempt), send it, and record the attempt with the delivery's next state (or its
 * end) in one batch. A delivery whose webhook is gone or disabled is cancelled instead of sent.
 * `secrets` opens the webhook's secrets (once per round, shared by its deliveries); it throws
 * SecretUnavailableError when this server cannot.
 */
export async function attemptDelivery(
  ctx: AppContext,
  job: DeliveryJob,
  secrets: () => string[],
  owner: string,
  random: () => number,
): Promise<Outcome | null> {
  const { webhook, delivery } = job;
  if (!webhook?.enabled) {
    await writeBatch(ctx.database, [
      leasedCancelled(ctx.database.db).bind({ now: ctx.clock.now(), id: delivery.id, owner }),
    ]);
    return null;
  }
  const attempt = delivery.attemptCount + 1;
  const startedAt = ctx.clock.now();
  let result: SendResult;
  let outcome: Outcome;
  try {
    const request = buildRequest(ctx, { ...job, webhook }, attempt, secrets);
    result = await sendWebhook(ctx, request.url, request.headers, request.body);
    outcome = decideOutcome(result, attempt, ctx.config.webhookRetrySchedule, random);
  } catch (err) {
    // Retrying cannot help until the server holds the right key: fail now, visibly.
    result = unsealFailure(ctx, webhook.id, err);
    outcome = { kind: "failed", reason: "secret_unavailable" };
  }
  // The delivery update is guarded on still holding the lease; the rest follow it.
  await writeBatch(ctx.database, [
    deliveryUpdate(ctx, job, attempt, result, outcome, owner),
    attemptInsert(delivery.id, attempt, startedAt, result, true),
    ...webhookUpdates(ctx, webhook, outcome),
  ]);
  ctx.metrics.deliveries.inc({ outcome: outcome.kind });
  ctx.logger.info("webhook attempt", {
    delivery_id: delivery.id,
    webhook_id: webhook.id,
    attempt,
    status_code: result.statusCode,
    error: result.error,
    outcome: outcome.kind,
    duration_ms: result.durationMs,
  });
  return outcome;
}
