// What other features may use of services; everything else in this folder is internal.
// The `export type` models are the API's shapes the dashboard (src/dashboard/app) reads; types only.
export type { AuthenticatedKey } from "./apiKeys.ts";
export { servicesErasure } from "./erasure.ts";
export { KeyCache } from "./keyCache.ts";
export { presentsApiKey, requireApiKey, requireSameService } from "./keyGuard.ts";
export { KeyUsage } from "./keyUsage.ts";
export type { ApiKeyModel, CreatedKeyModel, ServiceModel } from "./model.ts";
export { Grace, ServiceParams } from "./model.ts";
export { findOwnedService, findServiceBySlug } from "./service.ts";

import { Elysia, t } from "elysia";
import type { AppContext } from "../context.ts";
import { authPlugin } from "../http/auth.ts";
import { Deleted, ownerInput } from "../http/fields.ts";
import { ListQuery, pageOf, paginated, paginationQuery } from "../http/pagination.ts";
import { createKey, listKeys, revokeKey, rollKey } from "./apiKeys.ts";
import {
  ApiKeyListModel,
  ApiKeyModel,
  CreatedKeyModel,
  KeyCreateBody,
  KeyParams,
  KeyRollBody,
  KeyStatus,
  ServiceCreateBody,
  ServiceListModel,
  ServiceModel,
  ServiceParams,
  ServiceUpdateBody,
} from "./model.ts";
import {
  createService,
  deleteService,
  findOwnedService,
  listServices,
  serviceView,
  updateService,
} from "./service.ts";

const KeyListQuery = t.Object(
  { ...paginationQuery(), status: t.Optional(t.Union([KeyStatus, t.Literal("all")])) },
  { additionalProperties: false },
);

function serviceRoutes(ctx: AppContext) {
  return new Elysia({ prefix: "/v1/services", tags: ["services"] })
    .use(authPlugin(ctx))
    .get(
      "/",
      async ({ principal, query }) => {
        const page = pageOf(query);
        const { rows, total } = await listServices(ctx, principal.owner.id, page);
        return paginated("services", rows.map(serviceView), page, total);
      },
      ownerInput({
        owner: true,
        query: ListQuery,
        response: { 200: ServiceListModel },
        detail: { operationId: "listServices", summary: "List your services" },
      }),
    )
    .post(
      "/",
      async ({ principal, body, set }) => {
        set.status = 201;
        return serviceView(await createService(ctx, principal.owner.id, body));
      },
      ownerInput({
        owner: true,
        body: ServiceCreateBody,
        response: { 201: ServiceModel },
        detail: { operationId: "createService", summary: "Register a service" },
      }),
    )
    .get(
      "/:serviceId",
      async ({ principal, params }) =>
        serviceView(await findOwnedService(ctx, principal.owner.id, params.serviceId)),
      ownerInput({
        owner: true,
        params: ServiceParams,
        response: { 200: ServiceModel },
        detail: { operationId: "getService", summary: "Get a service" },
      }),
    )
    .patch(
      "/:serviceId",
      async ({ principal, params, body }) =>
        serviceView(await updateService(ctx, principal.owner.id, params.serviceId, body)),
      ownerInput({
        owner: true,
        params: ServiceParams,
        body: ServiceUpdateBody,
        response: { 200: ServiceModel },
        detail: {
          operationId: "updateService",
          summary: "Update name or description (the slug is immutable)",
        },
      }),
    )
    .delete(
      "/:serviceId",
      async ({ principal, params }) => {
        await deleteService(ctx, principal.owner.id, params.serviceId);
        return { id: params.serviceId, deleted: true };
      },
      ownerInput({
        owner: true,
        params: ServiceParams,
        response: { 200: Deleted },
        detail: {
          operationId: "deleteService",
          summary: "Delete a service with its keys and webhooks",
        },
      }),
    );
}

function keyRoutes(ctx: AppContext) {
  return new Elysia({ prefix: "/v1/services/:serviceId/keys", tags: ["api keys"] })
    .use(authPlugin(ctx))
    .get(
      "/",
      async ({ principal, params, query }) => {
        const page = pageOf(query);
        const { items, total } = await listKeys(
          ctx,
          principal.owner.id,
          params.serviceId,
          query.status ?? "all",
          page,
        );
        return paginated("keys", items, page, total);
      },
      ownerInput({
        owner: true,
        params: ServiceParams,
        query: KeyListQuery,
        response: { 200: ApiKeyListModel },
        detail: { operationId: "listApiKeys", summary: "List API keys (never the secret)" },
      }),
    )
    .post(
      "/",
      async ({ principal, params, body, set }) => {
        set.status = 201;
        return createKey(ctx, principal.owner.id, params.serviceId, body ?? {});
      },
      ownerInput({
        owner: true,
        params: ServiceParams,
        body: KeyCreateBody,
        response: { 201: CreatedKeyModel },
        detail: {
          operationId: "createApiKey",
          summary: "Create an API key (the full key is shown once)",
        },
      }),
    )
    .delete(
      "/:keyId",
      async ({ principal, params }) =>
        revokeKey(ctx, principal.owner.id, params.serviceId, params.keyId),
      ownerInput({
        owner: true,
        params: KeyParams,
        response: { 200: ApiKeyModel },
        detail: { operationId: "revokeApiKey", summary: "Revoke an API key at once" },
      }),
    )
    .post(
      "/:keyId/roll",
      async ({ principal, params, body, set }) => {
        set.status = 201;
        const grace = body?.grace_seconds ?? 86_400;
        return rollKey(ctx, principal.owner.id, params.serviceId, params.keyId, grace);
      },
      ownerInput({
        owner: true,
        params: KeyParams,
        body: KeyRollBody,
        response: { 201: CreatedKeyModel },
        detail: {
          operationId: "rollApiKey",
          summary: "Replace a key; the old one works until the grace period ends",
        },
      }),
    );
}

export function servicesFeature(ctx: AppContext) {
  return new Elysia({ name: "services" }).use(serviceRoutes(ctx)).use(keyRoutes(ctx));
}
