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

// ---- Passkeys (WebAuthn). The options and responses are the JSON forms @simplewebauthn/browser
// takes and produces; objects the WebAuthn spec keeps extending (client data, extension outputs)
// accept members this release does not know.

const Base64Url = (maxLength: number) =>
  t.String({
    minLength: 1,
    maxLength,
    pattern: "^[A-Za-z0-9_-]+={0,2}$",
    patternError: "must be base64url",
  });
const open = { additionalProperties: true } as const;
const Transports = t.Array(t.String({ maxLength: 32 }), { maxItems: 10 });
const CredentialType = t.Literal("public-key");
const Attachment = t.Optional(t.Union([t.Literal("platform"), t.Literal("cross-platform")]));

export const RegistrationResponse = t.Object(
  {
    id: Base64Url(1366),
    rawId: Base64Url(1366),
    type: CredentialType,
    response: t.Object(
      {
        clientDataJSON: Base64Url(4096),
        attestationObject: Base64Url(32_768),
        authenticatorData: t.Optional(Base64Url(32_768)),
        transports: t.Optional(Transports),
        publicKeyAlgorithm: t.Optional(t.Number()),
        publicKey: t.Optional(Base64Url(4096)),
      },
      open,
    ),
    authenticatorAttachment: Attachment,
    clientExtensionResults: t.Object({}, open),
  },
  { ...strict, description: "RegistrationResponseJSON from startRegistration()" },
);

export const AuthenticationResponse = t.Object(
  {
    id: Base64Url(1366),
    rawId: Base64Url(1366),
    type: CredentialType,
    response: t.Object(
      {
        clientDataJSON: Base64Url(4096),
        authenticatorData: Base64Url(32_768),
        signature: Base64Url(4096),
        userHandle: t.Optional(Base64Url(128)),
      },
      open,
    ),
    authenticatorAttachment: Attachment,
    clientExtensionResults: t.Object({}, open),
  },
  { ...strict, description: "AuthenticationResponseJSON from startAuthentication()" },
);

const PasskeyName = Label(100);

export const PasskeyCreateBody = t.Object(
  { response: RegistrationResponse, name: t.Optional(PasskeyName) },
  strict,
);

export const PasskeyRenameBody = t.Object({ name: PasskeyName }, strict);

export const SignupOptionsBody = t.Object(
  { namespace: SignupBody.properties.namespace, email: SignupBody.properties.email },
  strict,
);

export const PasskeySignupBody = t.Object(
  {
    namespace: SignupBody.properties.namespace,
    email: SignupBody.properties.email,
    response: RegistrationResponse,
  },
  strict,
);

export const PasskeyLoginBody = t.Object({ response: AuthenticationResponse }, strict);

const CredentialDescriptor = t.Object({
  id: t.String(),
  type: t.String({ description: "public-key" }),
  transports: t.Optional(t.Array(t.String())),
});

export const CreationOptionsModel = t.Object(
  {
    challenge: t.String(),
    rp: t.Object({ name: t.String(), id: t.Optional(t.String()) }),
    user: t.Object({ id: t.String(), name: t.String(), displayName: t.String() }),
    pubKeyCredParams: t.Array(t.Object({ alg: t.Number(), type: CredentialType })),
    timeout: t.Optional(t.Number()),
    excludeCredentials: t.Optional(t.Array(CredentialDescriptor)),
    authenticatorSelection: t.Optional(
      t.Object({
        authenticatorAttachment: t.Optional(t.String()),
        residentKey: t.Optional(t.String()),
        requireResidentKey: t.Optional(t.Boolean()),
        userVerification: t.Optional(t.String()),
      }),
    ),
    hints: t.Optional(t.Array(t.String())),
    attestation: t.Optional(t.String()),
    attestationFormats: t.Optional(t.Array(t.String())),
    extensions: t.Optional(t.Object({ credProps: t.Optional(t.Boolean()) })),
  },
  { description: "PublicKeyCredentialCreationOptionsJSON for startRegistration()" },
);

export const RequestOptionsModel = t.Object(
  {
    challenge: t.String(),
    timeout: t.Optional(t.Number()),
    rpId: t.Optional(t.String()),
    allowCredentials: t.Optional(t.Array(CredentialDescriptor)),
    userVerification: t.Optional(t.String()),
    hints: t.Optional(t.Array(t.String())),
  },
  { description: "PublicKeyCredentialRequestOptionsJSON for startAuthentication()" },
);

export const PasskeyModel = t.Object({
  id: t.String(),
  name: t.String(),
  created_at: t.String(),
  last_used_at: t.Union([t.String(), t.Null()]),
  transports: t.Array(t.String()),
  backup_eligible: t.Boolean({ description: "a synced (multi-device) passkey" }),
  backed_up: t.Boolean(),
});

export type PasskeyView = typeof PasskeyModel.static;
