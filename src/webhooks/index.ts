// What other features may use of webhooks; everything else in this folder is internal.
// The `export type` models are the API's shapes the dashboard (src/dashboard/app) reads; types only.
export { webhooksErasure } from "./erasure.ts";
export type {
  DeliveryDetailModel,
  DeliveryModel,
  EventName,
  WebhookModel,
} from "./model.ts";
export { deliveryInserts, subscribers } from "./outbox.ts";
export { pruneDeliveries } from "./retention.ts";
export { verifyWebhookSignature } from "./signature.ts";
export { defaultResolve } from "./ssrfGuard.ts";
export type { DeliveryStatsModel } from "./stats.ts";
export { DeliveryWorker } from "./worker.ts";

import { Elysia, t } from "elysia";
import type { AppContext } from "../context.ts";
import { authPlugin } from "../http/auth.ts";
import { Deleted, ownerInput } from "../http/fields.ts";
import { ListQuery, pageOf, paginated, paginationQuery } from "../http/pagination.ts";
import { ServiceParams } from "../services/index.ts";
import { getDelivery, listDeliveries, recover, redeliver, sendTestEvent } from "./deliveries.ts";
import {
  CreatedWebhookModel,
  DeliveryDetailModel,
  DeliveryListModel,
  DeliveryModel,
  DeliveryParams,
  DeliveryStatus,
  RecoverBody,
  RotateBody,
  RotatedSecretModel,
  TestResultModel,
  WebhookCreateBody,
  WebhookListModel,
  WebhookModel,
  WebhookParams,
  WebhookUpdateBody,
} from "./model.ts";
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhooks,
  rotateWebhookSecret,
  updateWebhook,
} from "./service.ts";
import { DeliveryStatsModel, DeliveryStatsQuery, deliveryStats } from "./stats.ts";

export function webhooksFeature(ctx: AppContext) {
  return new Elysia().use(webhookRoutes(ctx)).use(statsRoutes(ctx));
}

/** The overview's delivery chart (dashboard.md §2.9): all of the namespace's webhooks at once. */
function statsRoutes(ctx: AppContext) {
  return new Elysia({ tags: ["webhooks"] }).use(authPlugin(ctx)).get(
    "/v1/namespaces/:namespace/stats/webhooks",
    ({ principal, params, query }) => deliveryStats(ctx, principal.owner, params.namespace, query),
    ownerInput({
      owner: true,
      params: t.Object({ namespace: t.String({ maxLength: 64 }) }, { additionalProperties: false }),
      query: DeliveryStatsQuery,
      response: { 200: DeliveryStatsModel },
      detail: {
        operationId: "getWebhookDeliveryStats",
        summary: "Webhook delivery outcomes per UTC hour per webhook (last N hours, zero-filled)",
      },
    }),
  );
}

function webhookRoutes(ctx: AppContext) {
  return new Elysia({
    name: "webhooks",
    prefix: "/v1/services/:serviceId/webhooks",
    tags: ["webhooks"],
  })
    .use(authPlugin(ctx))
    .get(
      "/",
      async ({ principal, params, query }) => {
        const page = pageOf(query);
        const { items, total } = await listWebhooks(
          ctx,
          principal.owner.id,
          params.serviceId,
          page,
        );
        return paginated("webhooks", items, page, total);
      },
      ownerInput({
        owner: true,
        params: ServiceParams,
        query: ListQuery,
        response: { 200: WebhookListModel },
        detail: { operationId: "listWebhooks", summary: "List webhooks (never the secret)" },
      }),
    )
    .post(
      "/",
      async ({ principal, params, body, set }) => {
        set.status = 201;
        return createWebhook(ctx, principal.owner.id, params.serviceId, body);
      },
      ownerInput({
        owner: true,
        params: ServiceParams,
        body: WebhookCreateBody,
        response: { 201: CreatedWebhookModel },
        detail: {
          operationId: "createWebhook",
          summary: "Register a webhook (the signing secret is shown once)",
        },
      }),
    )
    .get(
      "/:webhookId",
      async ({ principal, params }) =>
        getWebhook(ctx, principal.owner.id, params.serviceId, params.webhookId),
      ownerInput({
        owner: true,
        params: WebhookParams,
        response: { 200: WebhookModel },
        detail: { operationId: "getWebhook", summary: "Get a webhook" },
      }),
    )
    .patch(
      "/:webhookId",
      async ({ principal, params, body }) =>
        updateWebhook(ctx, principal.owner.id, params.serviceId, params.webhookId, body),
      ownerInput({
        owner: true,
        params: WebhookParams,
        body: WebhookUpdateBody,
        response: { 200: WebhookModel },
        detail: {
          operationId: "updateWebhook",
          summary: "Change URL, events, description or enabled",
        },
      }),
    )
    .delete(
      "/:webhookId",
      async ({ principal, params }) => {
        await deleteWebhook(ctx, principal.owner.id, params.serviceId, params.webhookId);
        return { id: params.webhookId, deleted: true };
      },
      ownerInput({
        owner: true,
        params: WebhookParams,
        response: { 200: Deleted },
        detail: { operationId: "deleteWebhook", summary: "Delete a webhook" },
      }),
    )
    .post(
      "/:webhookId/rotate-secret",
      async ({ principal, params, body }) =>
        rotateWebhookSecret(
          ctx,
          principal.owner.id,
          params.serviceId,
          params.webhookId,
          body?.grace_seconds ?? 86_400,
        ),
      ownerInput({
        owner: true,
        params: WebhookParams,
        body: RotateBody,
        response: { 200: RotatedSecretModel },
        detail: {
          operationId: "rotateWebhookSecret",
          summary: "Replace the signing secret; both sign during the grace period",
        },
      }),
    )
    .post(
      "/:webhookId/test",
      async ({ principal, params }) =>
        sendTestEvent(ctx, principal.owner.id, params.serviceId, params.webhookId),
      ownerInput({
        owner: true,
        params: WebhookParams,
        response: { 200: TestResultModel },
        detail: {
          operationId: "testWebhook",
          summary: "Send a webhook.test event now and return the attempt",
        },
      }),
    )
    .get(
      "/:webhookId/deliveries",
      async ({ principal, params, query }) => {
        const page = pageOf(query);
        const { items, total } = await listDeliveries(
          ctx,
          principal.owner.id,
          params.serviceId,
          params.webhookId,
          query.status,
          page,
        );
        return paginated("deliveries", items, page, total);
      },
      ownerInput({
        owner: true,
        params: WebhookParams,
        query: t.Object(
          { ...paginationQuery(), status: t.Optional(DeliveryStatus) },
          { additionalProperties: false },
        ),
        response: { 200: DeliveryListModel },
        detail: { operationId: "listDeliveries", summary: "Deliveries of a webhook, newest first" },
      }),
    )
    .get(
      "/:webhookId/deliveries/:deliveryId",
      async ({ principal, params }) =>
        getDelivery(ctx, principal.owner.id, params.serviceId, params.webhookId, params.deliveryId),
      ownerInput({
        owner: true,
        params: DeliveryParams,
        response: { 200: DeliveryDetailModel },
        detail: { operationId: "getDelivery", summary: "A delivery with its attempts" },
      }),
    )
    .post(
      "/:webhookId/deliveries/:deliveryId/redeliver",
      async ({ principal, params, set }) => {
        set.status = 202;
        return redeliver(
          ctx,
          principal.owner.id,
          params.serviceId,
          params.webhookId,
          params.deliveryId,
        );
      },
      ownerInput({
        owner: true,
        params: DeliveryParams,
        response: { 202: DeliveryModel },
        detail: { operationId: "redeliver", summary: "Queue a fresh delivery of the same event" },
      }),
    )
    .post(
      "/:webhookId/recover",
      async ({ principal, params, body, set }) => {
        set.status = 202;
        return recover(ctx, principal.owner.id, params.serviceId, params.webhookId, body);
      },
      ownerInput({
        owner: true,
        params: WebhookParams,
        body: RecoverBody,
        response: { 202: t.Object({ requeued: t.Integer() }) },
        detail: {
          operationId: "recoverDeliveries",
          summary: "Re-queue every failed delivery since a time (at most 14 days back)",
        },
      }),
    );
}
