import { t } from "elysia";
import { USAGE_PROTOCOLS } from "../db/schema.ts";
import { Label, Nullable, OneOf, StrictInteger } from "../http/fields.ts";
import { PaginationModel, paginationQuery } from "../http/pagination.ts";

/** An optional body field; `null` means absent (SDKs that serialise every field send it). */
function Optional<T extends Parameters<typeof t.Optional>[0]>(schema: T) {
  return t.Optional(Nullable(schema));
}

export const UsageProtocol = OneOf(USAGE_PROTOCOLS);

// Service-facing: unknown fields are ignored so the reference gateway's reports keep working.
export const UsageEventBody = t.Object(
  {
    event_id: Label(128, "idempotency key, unique per service"),
    namespace: Label(64, "an existing namespace"),
    service: Label(64, "slug of the API key's service"),
    public_key: Label(200, "ed25519:<base64>, did:key:z6Mk… or z6Mk…"),
    subject: Label(256),
    protocol: UsageProtocol,
    action: Label(64),
    outcome: Label(
      32,
      "`success` counts as a success, anything else (denied, error…) as a failure",
    ),
    agent_id: Optional(Label(128)),
    status_code: Optional(StrictInteger({ minimum: 100, maximum: 599 })),
    duration_ms: Optional(StrictInteger({ minimum: 0, maximum: 86_400_000 })),
    response_bytes: Optional(StrictInteger({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    request_method: Optional(Label(16, "stored upper-cased")),
    request_path: Optional(Label(512)),
    remote_ip: Optional(Label(64, "IPv4 or IPv6, optionally with a port (dropped)")),
  },
  { additionalProperties: true },
);

export const UsageAcceptedModel = t.Object({
  event_id: t.String(),
  accepted: t.Literal(true),
  duplicate: t.Boolean(),
});

export const UsageSort = t.Union([
  t.Literal("recent"),
  t.Literal("calls_desc"),
  t.Literal("subject_asc"),
]);

const Timestamp = (description: string) =>
  t.String({ maxLength: 64, description: `ISO 8601 timestamp; ${description}` });

const filterFields = {
  subject: t.Optional(Label(256, "exact subject")),
  provider: t.Optional(t.String({ maxLength: 64, description: "service slug" })),
  agent: t.Optional(Label(200, "agent id, or agent public key in any accepted form")),
  from: t.Optional(Timestamp("events received at or after it")),
  to: t.Optional(Timestamp("events received before it")),
};

// Owner routes: unknown query parameters are refused, so typos are loud.
export const UsageQuery = t.Object(
  { ...paginationQuery(), ...filterFields, sort: t.Optional(UsageSort) },
  { additionalProperties: false },
);

export const UsageEventsQuery = t.Object(
  { ...paginationQuery(), ...filterFields },
  { additionalProperties: false },
);

export const UsageNamespaceParams = t.Object(
  { namespace: t.String({ maxLength: 64 }) },
  { additionalProperties: false },
);

export const UsageRowModel = t.Object({
  subject: t.String(),
  provider: t.String(),
  agent_id: Nullable(t.String()),
  public_key: t.String(),
  total_calls: t.Integer(),
  success_calls: t.Integer(),
  error_calls: t.Integer(),
  last_used_at: t.String(),
});

export const UsageSummaryModel = t.Object({
  total_events: t.Integer(),
  successful_events: t.Integer(),
  failed_events: t.Integer(),
  unique_subjects: t.Integer(),
  unique_providers: t.Integer(),
  unique_agents: t.Integer(),
});

export const AppliedFiltersModel = t.Object({
  subject: Nullable(t.String()),
  provider: Nullable(t.String()),
  agent: Nullable(t.String()),
  from: Nullable(t.String()),
  to: Nullable(t.String()),
});

export const UsageReportModel = t.Object({
  rows: t.Array(UsageRowModel),
  summary: UsageSummaryModel,
  pagination: PaginationModel,
  applied_filters: t.Composite([AppliedFiltersModel, t.Object({ sort: UsageSort })]),
});

export const UsageEventModel = t.Object({
  event_id: t.String(),
  namespace: t.String(),
  service: t.String(),
  service_id: Nullable(t.String()),
  public_key: t.String(),
  agent_key: t.String(),
  agent_id: Nullable(t.String()),
  subject: t.String(),
  protocol: UsageProtocol,
  action: t.String(),
  outcome: t.String(),
  status_code: Nullable(t.Integer()),
  duration_ms: Nullable(t.Integer()),
  response_bytes: Nullable(t.Integer()),
  request_method: Nullable(t.String()),
  request_path: Nullable(t.String()),
  remote_ip: Nullable(t.String()),
  received_at: t.String(),
});

export const UsageEventListModel = t.Object({
  events: t.Array(UsageEventModel),
  pagination: PaginationModel,
  applied_filters: AppliedFiltersModel,
});

export type UsageEventInput = typeof UsageEventBody.static;
export type UsageFilterQuery = typeof UsageEventsQuery.static;
export type UsageSortOrder = typeof UsageSort.static;
export type UsageRow = typeof UsageRowModel.static;
export type UsageEvent = typeof UsageEventModel.static;
