// What other features may use of claims; everything else in this folder is internal.
// The `export type` models are the API's shapes the dashboard (src/dashboard/app) reads; types only.
export { claimsErasure } from "./erasure.ts";
export { expirePendingClaims } from "./lifecycle.ts";
export type {
  ClaimModel,
  ClaimWithHistoryModel,
  PolicyModel,
} from "./model.ts";
export type { ClaimStatsModel } from "./stats.ts";
export { ClaimStreams } from "./stream.ts";
export { existingNamespace } from "./submit.ts";
export { VerifyCache } from "./verifyCache.ts";
export { agentKeyOf } from "./view.ts";

import { Elysia, t } from "elysia";
import { ownNamespace, type Principal } from "../auth/index.ts";
import type { AppContext } from "../context.ts";
import { authPlugin } from "../http/auth.ts";
import { unauthorized, validationError } from "../http/errors.ts";
import { ownerInput, Text } from "../http/fields.ts";
import { pageOf, paginated, paginationQuery } from "../http/pagination.ts";
import { type AuthenticatedKey, findServiceBySlug, requireSameService } from "../services/index.ts";
import type { VerifiedAgent } from "../signing/index.ts";
import { type Action, transitionClaim } from "./lifecycle.ts";
import {
  ClaimListModel,
  ClaimModel,
  ClaimStatus,
  ClaimWithHistoryModel,
  DecisionBody,
  ExistingClaimModel,
  FeedModel,
  NamespaceInfoModel,
  NewClaimModel,
  PolicyBody,
  PolicyModel,
  SubmitClaimBody,
  VerifyAnswerModel,
} from "./model.ts";
import {
  claimHistory,
  findOwnedClaim,
  getPolicy,
  listNamespaceClaims,
  putPolicy,
} from "./queries.ts";
import {
  approvedClaimsFeed,
  canonicalKeyParam,
  feedEtag,
  feedVersion,
  NO_AUTHORIZATION,
  namespaceInfo,
  verifyAuthorization,
} from "./runtime.ts";
import { ClaimStatsModel, ClaimStatsQuery, claimStats } from "./stats.ts";
import { EVENT_STREAM_RESPONSE, resumeFrom } from "./stream.ts";
import { submitClaim } from "./submit.ts";
import { claimView } from "./view.ts";

const NamespaceParams = t.Object(
  { namespace: t.String({ maxLength: 64 }) },
  { additionalProperties: false },
);
const ClaimParams = t.Object(
  { claimId: t.String({ maxLength: 100 }) },
  { additionalProperties: false },
);

/** POST /v1/claims: a service (API key) submits on behalf of an agent (signature). */
function submitRoutes(ctx: AppContext) {
  return new Elysia({ tags: ["claims"] }).use(authPlugin(ctx)).post(
    "/v1/claims",
    async ({ apiKey, body, set }) => {
      const outcome = await submitClaim(ctx, { apiKey, body });
      set.status = outcome.created ? 201 : 200;
      const view = claimView(outcome.claim);
      return {
        claim_id: view.claim_id,
        status: view.status,
        namespace: view.namespace,
        service: view.service,
        public_key: view.public_key,
        agent_key: view.agent_key,
        created_at: view.created_at,
        message: outcome.message,
      };
    },
    {
      // The key first, then the signature, both before the body is validated (http-api.md §5).
      apiKey: "claims",
      agent: "claim",
      body: SubmitClaimBody,
      response: { 200: ExistingClaimModel, 201: NewClaimModel },
      detail: {
        operationId: "submitClaim",
        summary: "Submit an agent's authorization request (API key + agent signature)",
      },
    },
  );
}

/** Owner decisions on their namespace's claims. */
function ownerRoutes(ctx: AppContext) {
  const decide =
    (action: Action) =>
    async ({
      principal,
      params,
      body,
    }: {
      principal: Principal;
      params: { claimId: string };
      body: { reason?: string } | null | undefined;
    }) => {
      const claim = await findOwnedClaim(ctx, principal.owner, params.claimId);
      const reason = body?.reason?.trim() || null;
      return claimView(
        await transitionClaim(ctx, claim, action, `owner:${principal.owner.namespace}`, reason),
      );
    };
  const decision = (action: Action) =>
    ownerInput({
      owner: true,
      params: ClaimParams,
      body: DecisionBody,
      response: { 200: ClaimModel },
      detail: {
        operationId: `${action}Claim`,
        summary: `${action[0]!.toUpperCase()}${action.slice(1)} a claim`,
      },
    });
  return new Elysia({ tags: ["claims"] })
    .use(authPlugin(ctx))
    .get(
      "/v1/namespaces/:namespace/claims",
      async ({ principal, params, query }) => {
        ownNamespace(principal.owner, params.namespace);
        const page = pageOf(query);
        const { items, total } = await listNamespaceClaims(ctx, principal.owner, query, page);
        return paginated("claims", items, page, total);
      },
      ownerInput({
        owner: true,
        params: NamespaceParams,
        query: t.Object(
          {
            ...paginationQuery(),
            status: t.Optional(ClaimStatus),
            service: t.Optional(Text({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ClaimListModel },
        detail: {
          operationId: "listNamespaceClaims",
          summary: "List your namespace's claims, newest first",
        },
      }),
    )
    .get(
      "/v1/namespaces/:namespace/events",
      ({ principal, params, query, request }) => {
        ownNamespace(principal.owner, params.namespace);
        const resume = resumeFrom(request.headers.get("last-event-id"), query.last_event_id);
        return ctx.claimStreams.stream(principal, resume, request.signal);
      },
      ownerInput({
        owner: true,
        params: NamespaceParams,
        query: t.Object(
          {
            last_event_id: t.Optional(
              t.String({
                maxLength: 20,
                description:
                  "Resume after this change number; the Last-Event-ID header (EventSource sends it on reconnect) takes precedence",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        detail: {
          operationId: "streamNamespaceEvents",
          summary: "Live updates: one server-sent event per claim change in your namespace",
          responses: { 200: EVENT_STREAM_RESPONSE },
        },
      }),
    )
    .get(
      "/v1/namespaces/:namespace/stats/claims",
      ({ principal, params, query }) => {
        ownNamespace(principal.owner, params.namespace);
        return claimStats(ctx, principal.owner, query);
      },
      ownerInput({
        owner: true,
        params: NamespaceParams,
        query: ClaimStatsQuery,
        response: { 200: ClaimStatsModel },
        detail: {
          operationId: "getClaimStats",
          summary: "Authorization requests per UTC day by outcome (last N days, zero-filled)",
        },
      }),
    )
    .get(
      "/v1/claims/:claimId",
      async ({ principal, params }) => {
        const claim = await findOwnedClaim(ctx, principal.owner, params.claimId);
        return { ...claimView(claim), history: await claimHistory(ctx, claim.id) };
      },
      ownerInput({
        owner: true,
        params: ClaimParams,
        response: { 200: ClaimWithHistoryModel },
        detail: { operationId: "getClaim", summary: "A claim with its history" },
      }),
    )
    .post("/v1/claims/:claimId/approve", decide("approve"), decision("approve"))
    .post("/v1/claims/:claimId/reject", decide("reject"), decision("reject"))
    .post("/v1/claims/:claimId/revoke", decide("revoke"), decision("revoke"))
    .get(
      "/v1/namespaces/:namespace/policy",
      async ({ principal, params }) => {
        ownNamespace(principal.owner, params.namespace);
        return getPolicy(ctx, principal.owner);
      },
      ownerInput({
        owner: true,
        params: NamespaceParams,
        response: { 200: PolicyModel },
        detail: {
          operationId: "getPolicy",
          summary: "The namespace's policy: auto-approved and blocked services",
        },
      }),
    )
    .put(
      "/v1/namespaces/:namespace/policy",
      async ({ principal, params, body }) => {
        ownNamespace(principal.owner, params.namespace);
        return putPolicy(ctx, principal.owner, body);
      },
      ownerInput({
        owner: true,
        params: NamespaceParams,
        body: PolicyBody,
        response: { 200: PolicyModel },
        detail: {
          operationId: "putPolicy",
          summary: "Replace the named lists (slugs in, {id, slug} out)",
        },
      }),
    );
}

// Service- and agent-facing queries ignore unknown fields (reference-client compatibility).
const VerifyQuery = t.Object(
  {
    namespace: t.String({ minLength: 1, maxLength: 64 }),
    public_key: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
    service: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: true },
);

const FeedQuery = t.Object(
  {
    ...paginationQuery(2000),
    service: t.Optional(t.String({ maxLength: 64 })),
    updated_since: t.Optional(t.String({ maxLength: 64 })),
  },
  { additionalProperties: true },
);

type VerifyParams = typeof VerifyQuery.static;

/** Runtime checks: verify (API key or agent signature), the approved-claims feed, namespace facts. */
function runtimeRoutes(ctx: AppContext) {
  /** Verify for the API key's service; `public_key` defaults to a verified signer's key. */
  const verifyForService = (
    { service }: AuthenticatedKey,
    namespace: string,
    query: VerifyParams,
    agent: VerifiedAgent | null,
  ) => {
    requireSameService(service.slug, query.service);
    const publicKey = query.public_key
      ? canonicalKeyParam(ctx, "public_key", query.public_key)
      : agent?.publicKey;
    if (publicKey === undefined) throw validationError("public_key", "is required");
    return verifyAuthorization(ctx, service.id, namespace, publicKey);
  };

  /** Verify by the agent itself (reference compatibility): the service is named by slug. */
  const verifyForAgent = async (agent: VerifiedAgent, namespace: string, query: VerifyParams) => {
    if (query.service === undefined)
      throw validationError("service", "is required with an agent signature");
    const service = await findServiceBySlug(ctx, query.service.trim().toLowerCase());
    const publicKey = query.public_key
      ? canonicalKeyParam(ctx, "public_key", query.public_key)
      : agent.publicKey;
    if (!service) return NO_AUTHORIZATION;
    return verifyAuthorization(ctx, service.id, namespace, publicKey);
  };

  return new Elysia({ tags: ["runtime"] })
    .use(authPlugin(ctx))
    .get(
      "/v1/verify",
      async ({ query, apiKey, agent }) => {
        const namespace = query.namespace.trim().toLowerCase();
        if (apiKey) return verifyForService(apiKey, namespace, query, agent);
        // `auth` admits no request without one or the other; this narrows `agent` for the compiler.
        if (!agent) throw unauthorized("A service API key or an agent signature is required");
        return verifyForAgent(agent, namespace, query);
      },
      {
        auth: ["apiKey", "agent"],
        query: VerifyQuery,
        response: { 200: VerifyAnswerModel },
        detail: {
          operationId: "verifyAuthorization",
          summary: "Is this agent key authorized for this service in this namespace?",
        },
      },
    )
    .get(
      "/v1/namespaces/claims",
      async ({ apiKey: { service }, query, request, set }) => {
        requireSameService(service.slug, query.service);
        const etag = feedEtag(service.id, await feedVersion(ctx, service.id), query);
        set.headers.etag = etag;
        if (request.headers.get("if-none-match") === etag) {
          set.status = 304;
          // An empty body, which the 200 model does not describe (nor is it checked against it).
          return "" as never;
        }
        const page = pageOf(query, 2000);
        const { items, total, cursor } = await approvedClaimsFeed(
          ctx,
          service.id,
          query.updated_since,
          page,
        );
        return { ...paginated("claims", items, page, total), cursor };
      },
      {
        // The feed spans namespaces, so a presented signature is verified without a binding.
        apiKey: "feed",
        agent: "presented",
        query: FeedQuery,
        response: { 200: FeedModel },
        detail: {
          responses: { 304: { description: "Not modified: the If-None-Match ETag still holds" } },
          operationId: "getApprovedClaimsFeed",
          summary: "The approved-claims feed of the key's service (ETag, updated_since)",
        },
      },
    )
    .get(
      "/v1/namespaces/:namespace",
      ({ params }) => namespaceInfo(ctx, params.namespace.trim().toLowerCase()),
      {
        auth: ["apiKey", "agent", "owner"],
        params: NamespaceParams,
        response: { 200: NamespaceInfoModel },
        detail: { operationId: "getNamespace", summary: "Public facts about a namespace" },
      },
    );
}

export function claimsFeature(ctx: AppContext) {
  return new Elysia({ name: "claims" })
    .use(submitRoutes(ctx))
    .use(ownerRoutes(ctx))
    .use(runtimeRoutes(ctx));
}
