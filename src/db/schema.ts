import { sql } from "drizzle-orm";
import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

// Timestamps are integer milliseconds since the epoch (UTC); the API renders them as ISO 8601.
// Foreign keys document the ownership and are enforced in embedded mode (PRAGMA foreign_keys=ON),
// but nothing relies on their cascades: a remote libSQL server does not guarantee the pragma on
// every connection, so each feature deletes its own rows explicitly (src/db/erasure.ts).

export const owners = sqliteTable(
  "owners",
  {
    id: text("id").primaryKey(),
    namespace: text("namespace").notNull(),
    email: text("email").notNull(),
    emailNormalized: text("email_normalized").notNull(),
    // Null for passkey-only owners.
    passwordHash: text("password_hash"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("owners_namespace_uq").on(t.namespace),
    uniqueIndex("owners_email_uq").on(t.emailNormalized),
  ],
);

export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => owners.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    renewedAt: integer("renewed_at").notNull(),
    idleExpiresAt: integer("idle_expires_at").notNull(),
    absoluteExpiresAt: integer("absolute_expires_at").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
  },
  (t) => [
    uniqueIndex("sessions_token_uq").on(t.tokenHash),
    index("sessions_owner_idx").on(t.ownerId),
  ],
);

export const personalAccessTokens = sqliteTable(
  "personal_access_tokens",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => owners.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    prefix: text("prefix").notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [uniqueIndex("pat_token_uq").on(t.tokenHash), index("pat_owner_idx").on(t.ownerId)],
);

/** WebAuthn credentials (passkeys); credential id and COSE public key base64url-encoded. */
export const passkeys = sqliteTable(
  "passkeys",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => owners.id, { onDelete: "cascade" }),
    credentialId: text("credential_id").notNull(),
    publicKey: text("public_key").notNull(),
    counter: integer("counter").notNull().default(0),
    /** JSON array of the authenticator's transports (hints for excludeCredentials). */
    transports: text("transports"),
    /** Backup eligible: a multi-device (synced) credential. */
    backupEligible: integer("backup_eligible", { mode: "boolean" }).notNull().default(false),
    /** Backed up (synced) as of the last ceremony. */
    backedUp: integer("backed_up", { mode: "boolean" }).notNull().default(false),
    name: text("name").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [
    uniqueIndex("passkeys_credential_uq").on(t.credentialId),
    index("passkeys_owner_idx").on(t.ownerId),
  ],
);

/**
 * Outstanding WebAuthn challenges, single-use (deleted when used) and bound to their ceremony:
 * `register` to the signed-in owner, `signup` to a namespace + email (and the owner id the new
 * account will get, no foreign key: that owner does not exist yet), `login` to nothing.
 */
export const webauthnChallenges = sqliteTable(
  "webauthn_challenges",
  {
    challenge: text("challenge").primaryKey(),
    ceremony: text("ceremony", { enum: ["register", "signup", "login"] }).notNull(),
    ownerId: text("owner_id"),
    namespace: text("namespace"),
    email: text("email"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    index("webauthn_challenges_expires_idx").on(t.expiresAt),
    index("webauthn_challenges_owner_idx").on(t.ownerId),
  ],
);

export type Passkey = typeof passkeys.$inferSelect;
export type WebauthnChallenge = typeof webauthnChallenges.$inferSelect;

export const services = sqliteTable(
  "services",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => owners.id, { onDelete: "cascade" }),
    slug: text("slug").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("services_slug_uq").on(t.slug),
    index("services_owner_idx").on(t.ownerId, t.createdAt),
  ],
);

export const ENVIRONMENTS = ["prod", "test"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
/** Not stored: derived from revoked_at and expires_at (src/services/apiKeys.ts keyStatus). */
export const KEY_STATUSES = ["active", "revoked", "expired"] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id")
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    name: text("name"),
    environment: text("environment", { enum: ENVIRONMENTS }).notNull(),
    prefix: text("prefix").notNull(),
    keyHash: text("key_hash").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [
    uniqueIndex("api_keys_hash_uq").on(t.keyHash),
    index("api_keys_service_idx").on(t.serviceId, t.createdAt),
  ],
);

export const webhooks = sqliteTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id")
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    /** JSON array of event names. */
    events: text("events").notNull(),
    description: text("description"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    disabledReason: text("disabled_reason"),
    secretCiphertext: text("secret_ciphertext").notNull(),
    secretKeyId: text("secret_key_id").notNull(),
    previousSecretCiphertext: text("previous_secret_ciphertext"),
    previousSecretKeyId: text("previous_secret_key_id"),
    previousSecretExpiresAt: integer("previous_secret_expires_at"),
    secretRotatedAt: integer("secret_rotated_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    lastSuccessAt: integer("last_success_at"),
    lastFailureAt: integer("last_failure_at"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    /** First failure since the last success: the auto-disable window starts here. */
    failingSince: integer("failing_since"),
  },
  (t) => [index("webhooks_service_idx").on(t.serviceId, t.createdAt)],
);

export const CLAIM_STATUSES = ["pending", "approved", "rejected", "revoked", "expired"] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

/**
 * Authorization requests. Keyed by service id (slugs can be re-registered by someone else once a
 * service is deleted; then `service_id` is null and the claim never verifies again).
 */
export const claims = sqliteTable(
  "claims",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id")
      .notNull()
      .references(() => owners.id, { onDelete: "cascade" }),
    namespace: text("namespace").notNull(),
    serviceId: text("service_id").references(() => services.id, { onDelete: "set null" }),
    serviceSlug: text("service_slug").notNull(),
    publicKey: text("public_key").notNull(),
    agentIp: text("agent_ip").notNull(),
    subject: text("subject"),
    agentId: text("agent_id"),
    agentName: text("agent_name"),
    status: text("status", { enum: CLAIM_STATUSES }).notNull(),
    reason: text("reason"),
    autoApproved: integer("auto_approved", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** Commit-ordered change number from the `claim_changes` sequence: the feed's cursor. */
    changeSeq: integer("change_seq").notNull(),
    pendingExpiresAt: integer("pending_expires_at"),
    decidedAt: integer("decided_at"),
    approvedAt: integer("approved_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [
    // At most one active claim per (namespace, service, key); orphaned ones (null service) never clash.
    uniqueIndex("claims_active_uq")
      .on(t.namespace, t.serviceId, t.publicKey)
      .where(sql`status IN ('pending', 'approved')`),
    index("claims_lookup_idx").on(t.serviceId, t.namespace, t.publicKey, t.createdAt),
    index("claims_owner_idx").on(t.ownerId, t.createdAt),
    index("claims_service_seq_idx").on(t.serviceId, t.changeSeq),
    // The owner's live-update streams read their namespace's changes in order (claims/stream.ts).
    index("claims_owner_seq_idx").on(t.ownerId, t.changeSeq),
    index("claims_pending_expiry_idx").on(t.status, t.pendingExpiresAt),
  ],
);

/** Named counters that never go back (a claim change takes the next `claim_changes` value). */
export const sequences = sqliteTable("sequences", {
  name: text("name").primaryKey(),
  value: integer("value").notNull(),
});

/**
 * Feed entries for approved claims that disappeared with their namespace's account, so a
 * service following the feed learns they are gone (served as `revoked` tombstones).
 */
export const feedTombstones = sqliteTable(
  "feed_tombstones",
  {
    claimId: text("claim_id").primaryKey(),
    serviceId: text("service_id").notNull(),
    changeSeq: integer("change_seq").notNull(),
    removedAt: integer("removed_at").notNull(),
  },
  (t) => [
    index("feed_tombstones_service_seq_idx").on(t.serviceId, t.changeSeq),
    index("feed_tombstones_removed_idx").on(t.removedAt),
  ],
);

export const CACHE_CHANGE_KINDS = ["claim", "api_key", "service", "owner"] as const;
export type CacheChangeKind = (typeof CACHE_CHANGE_KINDS)[number];

/**
 * The database's change log for in-memory caches (operations.md §6): one row per change that can
 * alter a cached answer, written by triggers (migrations/0008_change_log.sql) in the transaction
 * that makes the change, so no code path can forget it. `key` names what changed: a claim's
 * `[service_id, namespace, public_key]` as JSON, an API key's hash, a service's slug, an owner's
 * namespace. Every instance follows it (src/changeLog.ts); old rows are pruned by retention.
 */
export const cacheChanges = sqliteTable(
  "cache_changes",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    kind: text("kind", { enum: CACHE_CHANGE_KINDS }).notNull(),
    key: text("key").notNull(),
    at: integer("at").notNull(),
  },
  (t) => [index("cache_changes_at_idx").on(t.at)],
);

/** Every transition of a claim, never overwritten. */
export const claimTransitions = sqliteTable(
  "claim_transitions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    claimId: text("claim_id")
      .notNull()
      .references(() => claims.id, { onDelete: "cascade" }),
    fromStatus: text("from_status"),
    toStatus: text("to_status").notNull(),
    at: integer("at").notNull(),
    actor: text("actor").notNull(),
    reason: text("reason"),
  },
  (t) => [index("claim_transitions_claim_idx").on(t.claimId, t.id)],
);

/** Claim-submission nonces: unique per service for 24 h. */
export const claimNonces = sqliteTable(
  "claim_nonces",
  {
    serviceId: text("service_id")
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    nonce: text("nonce").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.serviceId, t.nonce] }),
    index("claim_nonces_expiry_idx").on(t.expiresAt),
  ],
);

/** Agent-signature nonces: unique per namespace for SIGILUM_SIGNATURE_NONCE_TTL. */
export const signatureNonces = sqliteTable(
  "signature_nonces",
  {
    namespace: text("namespace").notNull(),
    nonce: text("nonce").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.namespace, t.nonce] }),
    index("signature_nonces_expiry_idx").on(t.expiresAt),
  ],
);

/** The outbox: one row per lifecycle event, written in the same transaction as the change. */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").references(() => services.id, { onDelete: "set null" }),
    claimId: text("claim_id"),
    type: text("type").notNull(),
    payload: text("payload").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("events_service_idx").on(t.serviceId, t.createdAt),
    index("events_created_idx").on(t.createdAt),
  ],
);

export const DELIVERY_STATUSES = ["pending", "succeeded", "failed", "cancelled"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One event to one webhook. Leased by a worker while an attempt is in flight. */
export const deliveries = sqliteTable(
  "deliveries",
  {
    id: text("id").primaryKey(),
    eventId: text("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventType: text("event_type").notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    attemptCount: integer("attempt_count").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at"),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: integer("lease_expires_at"),
    createdAt: integer("created_at").notNull(),
    completedAt: integer("completed_at"),
    lastStatusCode: integer("last_status_code"),
    lastError: text("last_error"),
  },
  (t) => [
    index("deliveries_due_idx").on(t.status, t.nextAttemptAt),
    index("deliveries_webhook_idx").on(t.webhookId, t.createdAt),
    index("deliveries_webhook_due_idx").on(t.webhookId, t.status, t.nextAttemptAt),
    index("deliveries_event_idx").on(t.eventId),
  ],
);

/** Every attempt of a delivery, with a short excerpt of the receiver's answer. */
export const deliveryAttempts = sqliteTable(
  "delivery_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => deliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    startedAt: integer("started_at").notNull(),
    durationMs: integer("duration_ms").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    responseExcerpt: text("response_excerpt"),
  },
  (t) => [
    index("delivery_attempts_delivery_idx").on(t.deliveryId, t.attempt),
    index("delivery_attempts_started_idx").on(t.startedAt),
  ],
);

/** When a namespace's policy was last written (its entries are `namespace_policy_services`). */
export const namespacePolicies = sqliteTable("namespace_policies", {
  ownerId: text("owner_id")
    .primaryKey()
    .references(() => owners.id, { onDelete: "cascade" }),
  updatedAt: integer("updated_at").notNull(),
});

export const USAGE_PROTOCOLS = ["http", "mcp"] as const;

/**
 * What agents did through a service's gateway (POST /v1/usage/events), kept for
 * SIGILUM_USAGE_RETENTION. The caller's `event_id` is unique per service, so a gateway's retries
 * are idempotent without one service's ids colliding with another's. Rows belong to the namespace
 * owner and go with their account; a deleted service leaves its events with `service_id = null`
 * and the slug they were reported under.
 */
export const usageEvents = sqliteTable(
  "usage_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    ownerId: text("owner_id")
      .notNull()
      .references(() => owners.id, { onDelete: "cascade" }),
    namespace: text("namespace").notNull(),
    serviceId: text("service_id").references(() => services.id, { onDelete: "set null" }),
    serviceSlug: text("service_slug").notNull(),
    eventId: text("event_id").notNull(),
    publicKey: text("public_key").notNull(),
    subject: text("subject").notNull(),
    agentId: text("agent_id"),
    protocol: text("protocol", { enum: USAGE_PROTOCOLS }).notNull(),
    action: text("action").notNull(),
    outcome: text("outcome").notNull(),
    statusCode: integer("status_code"),
    durationMs: integer("duration_ms"),
    responseBytes: integer("response_bytes"),
    requestMethod: text("request_method"),
    requestPath: text("request_path"),
    remoteIp: text("remote_ip"),
    receivedAt: integer("received_at").notNull(),
  },
  (t) => [
    uniqueIndex("usage_events_service_event_uq").on(t.serviceId, t.eventId),
    // Every owner query is a range of one owner's rows by time: no other namespace is scanned.
    index("usage_events_owner_received_idx").on(t.ownerId, t.receivedAt),
    index("usage_events_received_idx").on(t.receivedAt),
  ],
);

export const POLICY_KINDS = ["auto_approve", "blocked"] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/**
 * The services a namespace trusts or blocks, by id: a slug re-registered by someone else after a
 * deletion is a different service. One kind per (owner, service). Service deletion removes its
 * rows explicitly too (remote libSQL does not enforce foreign keys).
 */
export const namespacePolicyServices = sqliteTable(
  "namespace_policy_services",
  {
    ownerId: text("owner_id")
      .notNull()
      .references(() => owners.id, { onDelete: "cascade" }),
    serviceId: text("service_id")
      .notNull()
      .references(() => services.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: POLICY_KINDS }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.ownerId, t.serviceId] }),
    index("namespace_policy_services_service_idx").on(t.serviceId),
  ],
);

export type Owner = typeof owners.$inferSelect;
export type Session = typeof sessions.$inferSelect;
export type PersonalAccessToken = typeof personalAccessTokens.$inferSelect;
export type ServiceRow = typeof services.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type WebhookRow = typeof webhooks.$inferSelect;
export type ClaimRow = typeof claims.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
export type AttemptRow = typeof deliveryAttempts.$inferSelect;
export type UsageEventRow = typeof usageEvents.$inferSelect;

/**
 * Pending claims per (namespace, service), kept by triggers on `claims` in the transaction that
 * changes them (migrations/0012_pending_claim_counts.sql): the pending caps read one row (or the
 * namespace's few) instead of counting pending claims, which grew with every pending claim.
 * Claims without a service (orphaned) are not counted, as the caps never counted them.
 */
export const pendingClaimCounts = sqliteTable(
  "pending_claim_counts",
  {
    namespace: text("namespace").notNull(),
    serviceId: text("service_id").notNull(),
    n: integer("n").notNull(),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.serviceId] })],
);
