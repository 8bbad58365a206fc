// What other features may use of usage; everything else in this folder is internal.
// The `export type` models are the API's shapes the dashboard (src/dashboard/app) reads; types only.
export { usageErasure } from "./erasure.ts";
export type { UsageEventModel, UsageReportModel } from "./model.ts";
export { pruneUsageEvents } from "./retention.ts";

import { Elysia } from "elysia";
import { ownNamespace } from "../auth/index.ts";
import type { AppContext } from "../context.ts";
import { authPlugin } from "../http/auth.ts";
import { ownerInput } from "../http/fields.ts";
import { pageOf } from "../http/pagination.ts";
import { recordUsageEvent } from "./ingest.ts";
import {
  UsageAcceptedModel,
  UsageEventBody,
  UsageEventListModel,
  UsageEventsQuery,
  UsageNamespaceParams,
  UsageQuery,
  UsageReportModel,
} from "./model.ts";
import { listUsageEvents, usageFilters, usageReport } from "./queries.ts";

/** POST /v1/usage/events: a service's gateway reports one request it proxied for an agent. */
function reportRoutes(ctx: AppContext) {
  return new Elysia({ tags: ["usage"] }).use(authPlugin(ctx)).post(
    // Listed in ANY_CONTENT_TYPE_ROUTES: read as JSON whatever the Content-Type (http-api.md §1.1).
    "/v1/usage/events",
    async ({ apiKey, body, set }) => {
      const outcome = await recordUsageEvent(ctx, apiKey, body);
      set.status = outcome.duplicate ? 200 : 201;
      return { event_id: outcome.eventId, accepted: true as const, duplicate: outcome.duplicate };
    },
    {
      // Counted in its own bucket; signature headers are optional, but a present one must
      // verify, bound to the body's namespace (never ignored).
      apiKey: "usage",
      agent: "presented",
      body: UsageEventBody,
      response: { 200: UsageAcceptedModel, 201: UsageAcceptedModel },
      detail: {
        operationId: "reportUsageEvent",
        summary:
          "Report a request an agent made through the service's gateway (idempotent per event_id)",
      },
    },
  );
}

/** The namespace owner's views: grouped usage and the raw events. */
function ownerRoutes(ctx: AppContext) {
  return new Elysia({ tags: ["usage"] })
    .use(authPlugin(ctx))
    .get(
      "/v1/namespaces/:namespace/usage",
      async ({ principal, params, query }) => {
        ownNamespace(principal.owner, params.namespace);
        const page = pageOf(query);
        return usageReport(ctx, principal.owner, usageFilters(query), query.sort ?? "recent", page);
      },
      ownerInput({
        owner: true,
        params: UsageNamespaceParams,
        query: UsageQuery,
        response: { 200: UsageReportModel },
        detail: {
          operationId: "getUsageReport",
          summary: "Usage grouped by (subject, service, agent key, agent id), with totals",
        },
      }),
    )
    .get(
      "/v1/namespaces/:namespace/usage/events",
      async ({ principal, params, query }) => {
        ownNamespace(principal.owner, params.namespace);
        const page = pageOf(query);
        return listUsageEvents(ctx, principal.owner, usageFilters(query), page);
      },
      ownerInput({
        owner: true,
        params: UsageNamespaceParams,
        query: UsageEventsQuery,
        response: { 200: UsageEventListModel },
        detail: {
          operationId: "listUsageEvents",
          summary: "The namespace's raw usage events, newest first",
        },
      }),
    );
}

export function usageFeature(ctx: AppContext) {
  return new Elysia({ name: "usage" }).use(reportRoutes(ctx)).use(ownerRoutes(ctx));
}
