import type {
  CreatedTokenModel,
  SessionModel,
  TokenModel,
  UserModel,
} from "../../src/auth/model.ts";
import type {
  ClaimListModel,
  ClaimModel,
  ClaimWithHistoryModel,
  ExistingClaimModel,
  FeedModel,
  NamespaceInfoModel,
  NewClaimModel,
  PolicyModel,
  TransitionModel,
  VerifyAnswerModel,
} from "../../src/claims/model.ts";
import type { didDocument } from "../../src/did/document.ts";
import type { Ready, Unready } from "../../src/health/index.ts";
import type { ErrorCode, ErrorDetail, errorBody } from "../../src/http/errors.ts";
import type { Deleted as DeletedModel } from "../../src/http/fields.ts";
import type { PaginationModel } from "../../src/http/pagination.ts";
import type {
  ApiKeyListModel,
  ApiKeyModel,
  CreatedKeyModel,
  ServiceListModel,
  ServiceModel,
} from "../../src/services/model.ts";
import type {
  UsageAcceptedModel,
  UsageEventListModel,
  UsageEventModel,
  UsageReportModel,
} from "../../src/usage/model.ts";
import type {
  AttemptModel,
  CreatedWebhookModel,
  DeliveryDetailModel,
  DeliveryListModel,
  DeliveryModel,
  RotatedSecretModel,
  TestResultModel,
  WebhookListModel,
  WebhookModel,
} from "../../src/webhooks/model.ts";

/**
 * The API's response bodies as tests see them, derived from the server's own TypeBox models
 * (the `response` schemas the routes declare), so a test reading a field the API does not
 * return fails the typecheck.
 */
type Static<M extends { static: unknown }> = M["static"];

// Auth
export type User = Static<typeof UserModel>;
export type UserBody = { user: User };
export type Session = Static<typeof SessionModel>;
export type SessionList = { sessions: Session[]; pagination: Pagination };
export type Token = Static<typeof TokenModel>;
export type TokenList = { tokens: Token[]; pagination: Pagination };
export type TokenCreated = Static<typeof CreatedTokenModel>;
export type Ok = { ok: boolean };
export type Deleted = Static<typeof DeletedModel>;

// Shared
export type Pagination = Static<typeof PaginationModel>;

// Services and API keys
export type Service = Static<typeof ServiceModel>;
export type ServiceList = Static<typeof ServiceListModel>;
export type ApiKey = Static<typeof ApiKeyModel>;
export type ApiKeyList = Static<typeof ApiKeyListModel>;
export type ApiKeyCreated = Static<typeof CreatedKeyModel>;

// Claims
export type Claim = Static<typeof ClaimModel>;
export type ClaimList = Static<typeof ClaimListModel>;
export type ClaimWithHistory = Static<typeof ClaimWithHistoryModel>;
export type Transition = Static<typeof TransitionModel>;
export type ClaimSubmitted = Static<typeof NewClaimModel> | Static<typeof ExistingClaimModel>;
export type Policy = Static<typeof PolicyModel>;
export type VerifyAnswer = Static<typeof VerifyAnswerModel>;
export type Feed = Static<typeof FeedModel>;
export type NamespaceInfo = Static<typeof NamespaceInfoModel>;

// Usage
export type UsageAccepted = Static<typeof UsageAcceptedModel>;
export type UsageReport = Static<typeof UsageReportModel>;
export type UsageEvent = Static<typeof UsageEventModel>;
export type UsageEventList = Static<typeof UsageEventListModel>;

// Webhooks
export type Webhook = Static<typeof WebhookModel>;
export type WebhookList = Static<typeof WebhookListModel>;
export type WebhookCreated = Static<typeof CreatedWebhookModel>;
export type RotatedSecret = Static<typeof RotatedSecretModel>;
export type WebhookTestResult = Static<typeof TestResultModel>;
export type Delivery = Static<typeof DeliveryModel>;
export type DeliveryList = Static<typeof DeliveryListModel>;
export type DeliveryDetail = Static<typeof DeliveryDetailModel>;
export type Attempt = Static<typeof AttemptModel>;
export type Requeued = { requeued: number };

// Health and DID
export type Alive = { status: string };
export type Readiness = Static<typeof Ready> | Static<typeof Unready>;
export type DidDocument = Awaited<ReturnType<typeof didDocument>>["document"];

/** The one error shape (src/http/errors.ts `errorBody`): `{error, code, details?, request_id}`. */
export type ApiErrorBody = Omit<ReturnType<typeof errorBody>, "code" | "details"> & {
  code: ErrorCode;
  details?: ErrorDetail[];
};

/** The parts of a JSON Schema tests read from /openapi.json (no model types the document). */
export interface JsonSchema {
  type?: string | string[];
  format?: string;
  pattern?: string;
  description?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  required?: string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
}

export interface OpenApiMedia {
  schema: JsonSchema;
}

export interface OpenApiOperation {
  operationId: string;
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters: { name: string; in: string; required?: boolean; schema: JsonSchema }[];
  requestBody?: { required?: boolean; description?: string; content: Record<string, OpenApiMedia> };
  responses: Record<
    string,
    { $ref?: string; description?: string; content?: Record<string, OpenApiMedia> }
  >;
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  servers: { url: string }[];
  tags: { name: string; description?: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, { description?: string; content: Record<string, OpenApiMedia> }>;
    securitySchemes: Record<string, unknown>;
  };
}
