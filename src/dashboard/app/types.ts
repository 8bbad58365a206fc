// Response shapes of the public API (http-api.md), taken from the server's own TypeBox models so a
// change of shape there is a type error here. Type-only imports: the bundler erases them, so no
// server code reaches the browser (test/dashboard checks the bundle).
import type {
  CreatedTokenModel,
  PasskeyModel,
  SessionModel,
  TokenModel,
  UserModel,
} from "../../auth/index.ts";
import type { ClaimModel, ClaimWithHistoryModel, PolicyModel } from "../../claims/index.ts";
import type { PaginationModel } from "../../http/pagination.ts";
import type { ApiKeyModel, CreatedKeyModel, ServiceModel } from "../../services/index.ts";
import type { UsageEventModel, UsageReportModel } from "../../usage/index.ts";
import type {
  DeliveryDetailModel,
  DeliveryModel,
  EventName,
  WebhookModel,
} from "../../webhooks/index.ts";

export type User = typeof UserModel.static;
export type Session = typeof SessionModel.static;
export type Token = typeof TokenModel.static;
export type CreatedToken = typeof CreatedTokenModel.static;
export type Passkey = typeof PasskeyModel.static;

export type Claim = typeof ClaimModel.static;
export type ClaimStatus = Claim["status"];
export type ClaimWithHistory = typeof ClaimWithHistoryModel.static;
export type Policy = typeof PolicyModel.static;

export type Service = typeof ServiceModel.static;
export type ApiKey = typeof ApiKeyModel.static;
export type CreatedKey = typeof CreatedKeyModel.static;

export type Webhook = typeof WebhookModel.static;
export type Delivery = typeof DeliveryModel.static;
export type DeliveryDetail = typeof DeliveryDetailModel.static;

export type UsageReport = typeof UsageReportModel.static;
export type UsageEvent = typeof UsageEventModel.static;

export type Pagination = typeof PaginationModel.static;

/** The list envelope: `{<plural>: items, pagination}` (src/http/pagination.ts `paginated`). */
export type Page<K extends string, T> = { [key in K]: T[] } & { pagination: Pagination };

// The server's catalog is a value (src/webhooks/model.ts) and values would pull server code into
// the bundle, so the list is repeated here; `satisfies` makes a name the server lacks an error.
export const EVENT_CATALOG = [
  "request.submitted",
  "request.approved",
  "request.rejected",
  "request.revoked",
  "request.expired",
] as const satisfies readonly EventName[];
export const DEFAULT_EVENTS: readonly EventName[] = EVENT_CATALOG.slice(0, 4);
