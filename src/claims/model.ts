import { t } from "elysia";
import { CLAIM_STATUSES } from "../db/schema.ts";
import { Nullable, OneOf, Text } from "../http/fields.ts";
import { PaginationModel } from "../http/pagination.ts";

// Service- and agent-facing bodies ignore unknown fields (reference-client compatibility).
export const SubmitClaimBody = t.Object(
  {
    namespace: Text({ minLength: 1, maxLength: 64 }),
    public_key: Text({
      minLength: 1,
      maxLength: 200,
      description: "ed25519:<base64>, did:key:z6Mk… or z6Mk…",
    }),
    service: Text({
      minLength: 1,
      maxLength: 64,
      description: "slug of the API key's service",
    }),
    agent_ip: Text({
      minLength: 2,
      maxLength: 64,
      description:
        "IPv4 dotted quad or IPv6, optionally with a port (203.0.113.9:4711, [2001:db8::1]:443; the port is dropped); informational",
    }),
    nonce: Text({ minLength: 8, maxLength: 256, description: "unique per service for 24 h" }),
    subject: t.Optional(Text({ minLength: 1, maxLength: 256 })),
    agent_id: t.Optional(Text({ minLength: 1, maxLength: 128 })),
    agent_name: t.Optional(Text({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: true },
);

export const DecisionBody = t.Optional(
  t.Object({ reason: t.Optional(Text({ maxLength: 500 })) }, { additionalProperties: false }),
);

export const ClaimStatus = OneOf(CLAIM_STATUSES);

export const ClaimModel = t.Object({
  claim_id: t.String(),
  namespace: t.String(),
  service: t.String(),
  service_id: Nullable(t.String()),
  public_key: t.String(),
  agent_key: t.String(),
  agent_ip: t.String(),
  subject: Nullable(t.String()),
  agent_id: Nullable(t.String()),
  agent_name: Nullable(t.String()),
  status: ClaimStatus,
  reason: Nullable(t.String()),
  created_at: t.String(),
  decided_at: Nullable(t.String()),
  approved_at: Nullable(t.String()),
  revoked_at: Nullable(t.String()),
});

export const TransitionModel = t.Object({
  from: Nullable(t.String()),
  to: t.String(),
  at: t.String(),
  actor: t.String(),
  reason: Nullable(t.String()),
});

export const ClaimWithHistoryModel = t.Composite([
  ClaimModel,
  t.Object({ history: t.Array(TransitionModel) }),
]);

const SlugList = t.Array(Text({ minLength: 3, maxLength: 64 }), {
  maxItems: 1000,
  description: "service slugs, resolved to service ids when the policy is written",
});

/** A list left out keeps its current content; at least one must be named. */
export const PolicyBody = t.Object(
  { auto_approve_services: t.Optional(SlugList), blocked_services: t.Optional(SlugList) },
  { additionalProperties: false, minProperties: 1 },
);

const PolicyEntry = t.Object({ id: t.String({ format: "uuid" }), slug: t.String() });

export const PolicyModel = t.Object({
  namespace: t.String(),
  auto_approve_services: t.Array(PolicyEntry),
  blocked_services: t.Array(PolicyEntry),
  updated_at: Nullable(t.String()),
});

const submittedClaim = {
  claim_id: t.String(),
  status: ClaimStatus,
  namespace: t.String(),
  service: t.String(),
  public_key: t.String(),
  agent_key: t.String({ description: "did:key:z6Mk… form of public_key" }),
  created_at: t.String(),
  message: t.String(),
};

/** POST /v1/claims: 201 for a new claim, 200 with the active one it repeats. */
export const NewClaimModel = t.Object(submittedClaim, {
  description: "A new claim (stored as rejected when the service is blocked or the cap is hit)",
});
export const ExistingClaimModel = t.Object(submittedClaim, {
  description: "The active (pending or approved) claim already submitted; no new event",
});

export const ClaimListModel = t.Object({
  claims: t.Array(ClaimModel),
  pagination: PaginationModel,
});

export const VerifyAnswerModel = t.Union([
  t.Object({
    authorized: t.Literal(true),
    claim_id: t.String(),
    approved_at: Nullable(t.String()),
    status: t.Literal("approved"),
  }),
  t.Object({
    authorized: t.Literal(false),
    status: t.Union([ClaimStatus, t.Literal("none")]),
    reason: Nullable(t.String()),
  }),
]);

const FeedClaimModel = t.Object({
  claim_id: t.String(),
  namespace: t.String(),
  service: t.String(),
  public_key: t.String(),
  agent_key: t.String(),
  subject: Nullable(t.String()),
  agent_id: Nullable(t.String()),
  agent_name: Nullable(t.String()),
  status: t.Literal("approved"),
  approved_at: Nullable(t.String()),
  updated_at: t.String(),
});

/** A claim that left the approved set since `updated_since`. */
const FeedTombstoneModel = t.Object({
  claim_id: t.String(),
  status: t.Literal("revoked"),
  revoked_at: Nullable(t.String()),
});

export const FeedModel = t.Object({
  claims: t.Array(t.Union([FeedClaimModel, FeedTombstoneModel])),
  pagination: PaginationModel,
  cursor: t.String({ description: "pass back as updated_since to follow the feed" }),
});

export const NamespaceInfoModel = t.Object({
  did: t.String(),
  namespace: t.String(),
  created_at: t.String(),
  active: t.Boolean(),
  active_claims: t.Integer(),
});

export type Claim = typeof ClaimModel.static;
