import { t } from "elysia";
import { NAMESPACE_PATTERN } from "../auth/index.ts";
import { ENVIRONMENTS, KEY_STATUSES } from "../db/schema.ts";
import { FreeText, Label, OneOf, StrictInteger, Text } from "../http/fields.ts";
import { PaginationModel } from "../http/pagination.ts";

const strict = { additionalProperties: false } as const;

export const Name = Label(100);
export const Description = FreeText(1000);

export const ServiceCreateBody = t.Object(
  {
    slug: Text({
      minLength: 3,
      maxLength: 64,
      description: `lower-cased, then ${NAMESPACE_PATTERN}; globally unique`,
    }),
    name: Name,
    description: t.Optional(t.Union([Description, t.Null()])),
  },
  strict,
);

export const ServiceUpdateBody = t.Object(
  {
    name: t.Optional(Name),
    description: t.Optional(t.Union([Description, t.Null()])),
  },
  { ...strict, minProperties: 1 },
);

export const ServiceModel = t.Object({
  id: t.String({ format: "uuid" }),
  slug: t.String(),
  name: t.String(),
  description: t.Union([t.String(), t.Null()]),
  created_at: t.String(),
  updated_at: t.String(),
  active_key_count: t.Integer(),
  webhook_count: t.Integer(),
});

export const ServiceParams = t.Object({ serviceId: t.String({ maxLength: 200 }) }, strict);
export const KeyParams = t.Object(
  { serviceId: t.String({ maxLength: 200 }), keyId: t.String({ maxLength: 200 }) },
  strict,
);

const Timestamp = t.String({ format: "date-time" });
export const Grace = StrictInteger({
  minimum: 0,
  maximum: 604_800,
  description: "seconds; default 86400",
});

export const KeyCreateBody = t.Optional(
  t.Object(
    {
      name: t.Optional(t.Union([Name, t.Null()])),
      environment: t.Optional(OneOf(ENVIRONMENTS)),
      expires_at: t.Optional(t.Union([Timestamp, t.Null()])),
    },
    strict,
  ),
);

export const KeyRollBody = t.Optional(t.Object({ grace_seconds: t.Optional(Grace) }, strict));

export const KeyStatus = OneOf(KEY_STATUSES);

export const ApiKeyModel = t.Object({
  id: t.String(),
  name: t.Union([t.String(), t.Null()]),
  prefix: t.String(),
  environment: t.String(),
  status: KeyStatus,
  created_at: t.String(),
  last_used_at: t.Union([t.String(), t.Null()]),
  expires_at: t.Union([t.String(), t.Null()]),
  revoked_at: t.Union([t.String(), t.Null()]),
});

export const CreatedKeyModel = t.Object({
  key: t.String({ description: "the full key; shown only in this response" }),
  id: t.String(),
  prefix: t.String(),
  name: t.Union([t.String(), t.Null()]),
  environment: t.String(),
  created_at: t.String(),
  expires_at: t.Union([t.String(), t.Null()]),
});

export const KeyListQuery = t.Object(
  {
    status: t.Optional(t.Union([KeyStatus, t.Literal("all")])),
  },
  strict,
);

export const ServiceListModel = t.Object({
  services: t.Array(ServiceModel),
  pagination: PaginationModel,
});

export const ApiKeyListModel = t.Object({
  keys: t.Array(ApiKeyModel),
  pagination: PaginationModel,
});

export type Service = typeof ServiceModel.static;
export type ApiKey = typeof ApiKeyModel.static;
