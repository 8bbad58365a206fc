import { t } from "elysia";
import { DELIVERY_STATUSES } from "../db/schema.ts";
import { FreeText, Nullable, OneOf, StrictBoolean, Text } from "../http/fields.ts";
import { PaginationModel } from "../http/pagination.ts";
import { Grace } from "../services/index.ts";

const strict = { additionalProperties: false } as const;

/** Events a webhook can subscribe to; `webhook.test` is only ever sent by the test route. */
export const EVENT_CATALOG = [
  "request.submitted",
  "request.approved",
  "request.rejected",
  "request.revoked",
  "request.expired",
] as const;
export type EventName = (typeof EVENT_CATALOG)[number];

/** A webhook created without `events` gets the four events of the seed page. */
export const DEFAULT_EVENTS: EventName[] = [
  "request.submitted",
  "request.approved",
  "request.rejected",
  "request.revoked",
];

// Length and scheme are checked by the SSRF guard so every URL problem is INVALID_WEBHOOK_URL.
const Url = t.String({
  description: "absolute https:// URL, at most 2048 characters, public target",
});
const Events = t.Array(Text({ maxLength: 64 }), {
  minItems: 1,
  maxItems: EVENT_CATALOG.length,
  description: `subset of ${EVENT_CATALOG.join(", ")}; default: the first four`,
});
const Description = FreeText(1000);

export const WebhookCreateBody = t.Object(
  {
    url: Url,
    events: t.Optional(Events),
    description: t.Optional(t.Union([Description, t.Null()])),
  },
  strict,
);

export const WebhookUpdateBody = t.Object(
  {
    url: t.Optional(Url),
    events: t.Optional(Events),
    description: t.Optional(t.Union([Description, t.Null()])),
    enabled: t.Optional(StrictBoolean()),
  },
  { ...strict, minProperties: 1 },
);

export const RotateBody = t.Optional(t.Object({ grace_seconds: t.Optional(Grace) }, strict));

export const WebhookParams = t.Object(
  { serviceId: t.String({ maxLength: 200 }), webhookId: t.String({ maxLength: 200 }) },
  strict,
);

export const WebhookModel = t.Object({
  id: t.String(),
  service_id: t.String(),
  url: t.String(),
  events: t.Array(t.String()),
  description: Nullable(t.String()),
  enabled: t.Boolean(),
  disabled_reason: Nullable(t.String()),
  created_at: t.String(),
  updated_at: t.String(),
  last_success_at: Nullable(t.String()),
  last_failure_at: Nullable(t.String()),
  consecutive_failures: t.Integer(),
  secret_rotated_at: Nullable(t.String()),
});

export const CreatedWebhookModel = t.Composite([
  t.Object({ secret: t.String({ description: "whsec_…; shown only in this response" }) }),
  WebhookModel,
]);

export const RotatedSecretModel = t.Object({
  secret: t.String(),
  previous_secret_expires_at: Nullable(t.String()),
});

export type Webhook = typeof WebhookModel.static;

export const DeliveryParams = t.Object(
  {
    serviceId: t.String({ maxLength: 200 }),
    webhookId: t.String({ maxLength: 200 }),
    deliveryId: t.String({ maxLength: 200 }),
  },
  strict,
);

export const DeliveryStatus = OneOf(DELIVERY_STATUSES);

export const DeliveryModel = t.Object({
  id: t.String(),
  event_id: t.String(),
  event: t.String(),
  status: DeliveryStatus,
  attempt_count: t.Integer(),
  next_attempt_at: t.Union([t.String(), t.Null()]),
  created_at: t.String(),
  completed_at: t.Union([t.String(), t.Null()]),
  last_status_code: t.Union([t.Integer(), t.Null()]),
  last_error: t.Union([t.String(), t.Null()]),
});

export const AttemptModel = t.Object({
  attempt: t.Integer(),
  started_at: t.String(),
  duration_ms: t.Integer(),
  status_code: t.Union([t.Integer(), t.Null()]),
  error: t.Union([t.String(), t.Null()]),
  response_excerpt: t.Union([t.String(), t.Null()]),
});

export const DeliveryDetailModel = t.Composite([
  DeliveryModel,
  t.Object({
    payload: Nullable(
      t.Record(t.String(), t.Unknown(), {
        description: "the JSON body sent to the receiver (the event payload of webhooks.md §2)",
      }),
    ),
    attempts: t.Array(AttemptModel),
  }),
]);

export const TestResultModel = t.Object({
  delivery_id: t.String(),
  status_code: t.Union([t.Integer(), t.Null()]),
  duration_ms: t.Integer(),
  success: t.Boolean(),
  error: t.Optional(t.String()),
});

export const WebhookListModel = t.Object({
  webhooks: t.Array(WebhookModel),
  pagination: PaginationModel,
});

export const DeliveryListModel = t.Object({
  deliveries: t.Array(DeliveryModel),
  pagination: PaginationModel,
});

export const RecoverBody = t.Object(
  {
    since: t.String({ format: "date-time", description: "at most 14 days ago" }),
    until: t.Optional(t.String({ format: "date-time" })),
  },
  strict,
);
