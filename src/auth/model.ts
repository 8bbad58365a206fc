import { t } from "elysia";
import { Label, Text } from "../http/fields.ts";
import { ID_FORMATS } from "../ids.ts";

const strict = { additionalProperties: false } as const;

export const NAMESPACE_PATTERN = ID_FORMATS.namespace.source;

export const SignupBody = t.Object(
  {
    namespace: Text({
      minLength: 3,
      maxLength: 64,
      description: `lower-cased, then ${NAMESPACE_PATTERN}`,
    }),
    email: Text({ minLength: 3, maxLength: 254, format: "email" }),
    password: t.String({ minLength: 10, maxLength: 256 }),
  },
  strict,
);

export const LoginBody = t.Object(
  {
    login: Text({ minLength: 1, maxLength: 254, description: "email or namespace" }),
    password: t.String({ minLength: 1, maxLength: 256 }),
  },
  strict,
);

export const PasswordChangeBody = t.Object(
  {
    current_password: t.Optional(t.String({ maxLength: 256 })),
    new_password: t.String({ minLength: 10, maxLength: 256 }),
  },
  strict,
);

export const TokenCreateBody = t.Object(
  {
    name: Label(100),
    expires_at: t.Optional(t.Union([t.String({ format: "date-time" }), t.Null()])),
  },
  strict,
);

export const IdParams = t.Object({ id: t.String({ maxLength: 200 }) }, strict);

export const UserModel = t.Object({
  id: t.String(),
  namespace: t.String(),
  did: t.String(),
  email: t.String(),
  created_at: t.String(),
  has_password: t.Boolean(),
  passkey_count: t.Integer(),
});

export const SessionModel = t.Object({
  id: t.String(),
  created_at: t.String(),
  last_renewed_at: t.String(),
  expires_at: t.String(),
  ip: t.Union([t.String(), t.Null()]),
  user_agent: t.Union([t.String(), t.Null()]),
  current: t.Boolean(),
});

export const TokenModel = t.Object({
  id: t.String(),
  name: t.String(),
  prefix: t.String(),
  created_at: t.String(),
  expires_at: t.Union([t.String(), t.Null()]),
  last_used_at: t.Union([t.String(), t.Null()]),
});

export const CreatedTokenModel = t.Object({
  id: t.String(),
  name: t.String(),
  token: t.String({ description: "shown once" }),
  prefix: t.String(),
  created_at: t.String(),
  expires_at: t.Union([t.String(), t.Null()]),
});

export type User = typeof UserModel.static;
