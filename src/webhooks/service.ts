import { and, desc, eq, sql } from "drizzle-orm";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { findOr404, pagedRows, writeBatch } from "../db/client.ts";
import { deliveries, type WebhookRow, webhooks } from "../db/schema.ts";
import { insertWhere } from "../db/writes.ts";
import { limitReached, validationError } from "../http/errors.ts";
import type { Page } from "../http/pagination.ts";
import { newId, randomBytes } from "../ids.ts";
import { findOwnedService } from "../services/index.ts";
import { DEFAULT_EVENTS, EVENT_CATALOG, type EventName, type Webhook } from "./model.ts";
import { cancelPendingFor } from "./outbox.ts";
import { acceptableWebhookUrl } from "./urlPolicy.ts";

export function webhookView(row: WebhookRow): Webhook {
  return {
    id: row.id,
    service_id: row.serviceId,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    description: row.description,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    created_at: toIso(row.createdAt),
    updated_at: toIso(row.updatedAt),
    last_success_at: toIso(row.lastSuccessAt),
    last_failure_at: toIso(row.lastFailureAt),
    consecutive_failures: row.consecutiveFailures,
    secret_rotated_at: toIso(row.secretRotatedAt),
  };
}

function mintWebhookSecret(): string {
  return `whsec_${Buffer.from(randomBytes(32)).toString("base64")}`;
}

/** Events must be a non-empty, duplicate-free subset of the catalog. */
function checkEvents(events: string[] | undefined): EventName[] | undefined {
  if (events === undefined) return undefined;
  const seen = new Set<string>();
  events.forEach((event, i) => {
    if (!(EVENT_CATALOG as readonly string[]).includes(event)) {
      throw validationError(
        `events.${i}`,
        `'${event}' is not an event; use one of ${EVENT_CATALOG.join(", ")}`,
      );
    }
    if (seen.has(event)) throw validationError(`events.${i}`, `'${event}' is listed twice`);
    seen.add(event);
  });
  return events as EventName[];
}

export async function findWebhook(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  webhookId: string,
): Promise<WebhookRow> {
  await findOwnedService(ctx, ownerId, serviceId);
  const owned = and(eq(webhooks.id, webhookId), eq(webhooks.serviceId, serviceId));
  return findOr404(ctx.database, webhooks, owned, "Webhook");
}

export async function getWebhook(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  webhookId: string,
) {
  return webhookView(await findWebhook(ctx, ownerId, serviceId, webhookId));
}

export async function listWebhooks(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  page: Page,
) {
  await findOwnedService(ctx, ownerId, serviceId);
  const { rows, total } = await pagedRows(ctx.database, webhooks, {
    where: eq(webhooks.serviceId, serviceId),
    orderBy: [desc(webhooks.createdAt), desc(webhooks.id)],
    page,
  });
  return { items: rows.map(webhookView), total };
}

export async function createWebhook(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  input: { url: string; events?: string[]; description?: string | null },
) {
  await findOwnedService(ctx, ownerId, serviceId);
  const events = checkEvents(input.events) ?? DEFAULT_EVENTS;
  const url = await acceptableWebhookUrl(ctx, input.url);
  const secret = mintWebhookSecret();
  const sealed = ctx.secretBox.seal(secret);
  const now = ctx.clock.now();
  const row: WebhookRow = {
    id: newId.webhook(),
    serviceId,
    url,
    events: JSON.stringify(events),
    description: input.description?.trim() || null,
    enabled: true,
    disabledReason: null,
    secretCiphertext: sealed.ciphertext,
    secretKeyId: sealed.keyId,
    previousSecretCiphertext: null,
    previousSecretKeyId: null,
    previousSecretExpiresAt: null,
    secretRotatedAt: null,
    createdAt: now,
    updatedAt: now,
    lastSuccessAt: null,
    lastFailureAt: null,
    consecutiveFailures: 0,
    failingSince: null,
  };
  // One statement: the per-service limit holds under concurrent creates.
  const rs = await ctx.database.db.run(
    insertWhere(
      webhooks,
      {
        id: row.id,
        serviceId,
        url,
        events: row.events,
        description: row.description,
        enabled: true,
        secretCiphertext: sealed.ciphertext,
        secretKeyId: sealed.keyId,
        createdAt: now,
        updatedAt: now,
        consecutiveFailures: 0,
      },
      sql`(SELECT count(*) FROM ${webhooks} WHERE ${webhooks.serviceId} = ${serviceId}) < ${ctx.config.maxWebhooksPerService}`,
    ),
  );
  if (rs.rowsAffected === 0) {
    throw limitReached(`At most ${ctx.config.maxWebhooksPerService} webhooks per service`);
  }
  return { secret, ...webhookView(row) };
}

export async function updateWebhook(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  webhookId: string,
  input: { url?: string; events?: string[]; description?: string | null; enabled?: boolean },
) {
  const row = await findWebhook(ctx, ownerId, serviceId, webhookId);
  const patch: Partial<WebhookRow> = { updatedAt: ctx.clock.now() };
  const events = checkEvents(input.events);
  if (events) patch.events = JSON.stringify(events);
  if (input.url !== undefined) patch.url = await acceptableWebhookUrl(ctx, input.url);
  if (input.description !== undefined) patch.description = input.description?.trim() || null;
  if (input.enabled === true && !row.enabled)
    Object.assign(patch, {
      enabled: true,
      disabledReason: null,
      consecutiveFailures: 0,
      failingSince: null,
    });
  if (input.enabled === false && row.enabled)
    Object.assign(patch, { enabled: false, disabledReason: "manual" });
  // Disabling cancels what is still pending, in the same transaction.
  const cancel = patch.enabled === false ? [cancelPendingFor(ctx, [row.id], ctx.clock.now())] : [];
  await writeBatch(ctx.database, [
    ctx.database.db.update(webhooks).set(patch).where(eq(webhooks.id, row.id)),
    ...cancel,
  ]);
  return webhookView({ ...row, ...patch });
}

export async function deleteWebhook(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  webhookId: string,
) {
  const row = await findWebhook(ctx, ownerId, serviceId, webhookId);
  // Its deliveries go with it: nothing more is sent.
  await writeBatch(ctx.database, [
    ctx.database.db.delete(deliveries).where(eq(deliveries.webhookId, row.id)),
    ctx.database.db.delete(webhooks).where(eq(webhooks.id, row.id)),
  ]);
}

/** New secret now; the previous one keeps signing until the grace ends (0 = dropped at once). */
export async function rotateWebhookSecret(
  ctx: AppContext,
  ownerId: string,
  serviceId: string,
  webhookId: string,
  graceSeconds: number,
) {
  const row = await findWebhook(ctx, ownerId, serviceId, webhookId);
  const now = ctx.clock.now();
  const secret = mintWebhookSecret();
  const sealed = ctx.secretBox.seal(secret);
  const previousExpiresAt = graceSeconds > 0 ? now + graceSeconds * 1000 : null;
  await ctx.database.db
    .update(webhooks)
    .set({
      secretCiphertext: sealed.ciphertext,
      secretKeyId: sealed.keyId,
      previousSecretCiphertext: previousExpiresAt ? row.secretCiphertext : null,
      previousSecretKeyId: previousExpiresAt ? row.secretKeyId : null,
      previousSecretExpiresAt: previousExpiresAt,
      secretRotatedAt: now,
      updatedAt: now,
    })
    .where(eq(webhooks.id, row.id));
  return { secret, previous_secret_expires_at: toIso(previousExpiresAt) };
}

/** The secrets that sign a delivery made now: the current one, plus the previous one during its grace. */
export function liveSecrets(
  ctx: AppContext,
  row: Pick<
    WebhookRow,
    | "secretCiphertext"
    | "secretKeyId"
    | "previousSecretCiphertext"
    | "previousSecretKeyId"
    | "previousSecretExpiresAt"
  >,
): string[] {
  const secrets = [ctx.secretBox.open(row.secretCiphertext, row.secretKeyId)];
  const {
    previousSecretCiphertext: prev,
    previousSecretKeyId: prevKey,
    previousSecretExpiresAt: until,
  } = row;
  if (prev && prevKey && until !== null && until > ctx.clock.now())
    secrets.push(ctx.secretBox.open(prev, prevKey));
  return secrets;
}
