import { and, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { findOwnerByNamespace } from "../auth/index.ts";
import type { AppContext } from "../context.ts";
import { isUniqueViolation, writeBatch } from "../db/client.ts";
import { compile, compileWithDb, readRows } from "../db/compiled.ts";
import {
  type ClaimRow,
  type ClaimStatus,
  claimNonces,
  claims,
  type PolicyKind,
  pendingClaimCounts,
} from "../db/schema.ts";
import { ApiError, conflict, validationError } from "../http/errors.ts";
import { newId } from "../ids.ts";
import { type AuthenticatedKey, requireSameService } from "../services/index.ts";
import { normalizeAgentKey } from "../signing/index.ts";
import type { EventName } from "../webhooks/index.ts";
import { parseAgentIp } from "./agentIp.ts";
import { outboxStatements } from "./events.ts";
import { bumpChangeSeqByOne, currentChangeSeq, historyInsert } from "./lifecycle.ts";
import type { SubmitClaimBody } from "./model.ts";

const CLAIM_NONCE_TTL_MS = 24 * 3_600_000;

export interface SubmitOutcome {
  created: boolean;
  claim: ClaimRow;
  message: string;
}

interface SubmitInput {
  apiKey: AuthenticatedKey;
  body: typeof SubmitClaimBody.static;
}

function normalizedInput(input: SubmitInput) {
  const publicKey = normalizeAgentKey(input.body.public_key.trim());
  if (!publicKey)
    throw validationError(
      "public_key",
      "must be ed25519:<base64 of 32 bytes>, did:key:z6Mk… or z6Mk…",
    );
  const agentIp = parseAgentIp(input.body.agent_ip.trim());
  if (!agentIp)
    throw validationError(
      "agent_ip",
      "must be an IPv4 dotted quad or an IPv6 address, optionally with a port",
    );
  return { namespace: input.body.namespace.trim().toLowerCase(), publicKey, agentIp };
}

/** The owner of a namespace, or 404 NAMESPACE_NOT_FOUND. */
export async function existingNamespace(ctx: AppContext, namespace: string) {
  const owner = await ctx.keyCache.ownersByNamespace.load(
    namespace,
    async () => (await findOwnerByNamespace(ctx, namespace)) ?? undefined,
  );
  if (!owner)
    throw new ApiError(404, "NAMESPACE_NOT_FOUND", `Namespace '${namespace}' does not exist`);
  return owner;
}

/** The claims of one agent key on one service for one namespace (verify's and submit's lookup). */
export function agentClaims(serviceId: string, namespace: string, publicKey: string) {
  return and(
    eq(claims.namespace, namespace),
    eq(claims.serviceId, serviceId),
    eq(claims.publicKey, publicKey),
  );
}

async function activeClaim(
  ctx: AppContext,
  namespace: string,
  serviceId: string,
  publicKey: string,
) {
  const [row] = await ctx.database.db
    .select()
    .from(claims)
    .where(
      and(
        agentClaims(serviceId, namespace, publicKey),
        inArray(claims.status, ["pending", "approved"]),
      ),
    )
    .limit(1);
  return row ?? null;
}

type FactsParam = "namespace" | "serviceId" | "publicKey" | "ownerId";

/**
 * What the decision needs, in one round trip: an active claim?, the pending counts, the policy
 * entry. The counts are kept by triggers per (namespace, service) (pending_claim_counts), so this
 * reads one row for the service and the namespace's few for the brake, however many claims are
 * pending. Claims of deleted (orphaned) and blocked services do not count against the namespace
 * brake, so blocking a flooder frees the namespace at once.
 */
const FACTS = compile<FactsParam>(
  (p) => sql`SELECT
    (SELECT id FROM claims WHERE namespace = ${p("namespace")} AND service_id = ${p("serviceId")} AND public_key = ${p("publicKey")}
       AND status IN ('pending', 'approved') LIMIT 1) AS active,
    coalesce((SELECT ${pendingClaimCounts.n} FROM ${pendingClaimCounts}
       WHERE ${pendingClaimCounts.namespace} = ${p("namespace")} AND ${pendingClaimCounts.serviceId} = ${p("serviceId")}), 0)
      AS servicePending,
    coalesce((SELECT sum(${pendingClaimCounts.n}) FROM ${pendingClaimCounts}
       WHERE ${pendingClaimCounts.namespace} = ${p("namespace")} AND ${pendingClaimCounts.serviceId} NOT IN
         (SELECT service_id FROM namespace_policy_services WHERE owner_id = ${p("ownerId")} AND kind = 'blocked')), 0)
      AS namespacePending,
    (SELECT kind FROM namespace_policy_services WHERE owner_id = ${p("ownerId")} AND service_id = ${p("serviceId")}) AS policy`,
);

async function submissionFacts(
  ctx: AppContext,
  ownerId: string,
  namespace: string,
  serviceId: string,
  publicKey: string,
) {
  const [row] = await readRows<{
    active: string | null;
    servicePending: number;
    namespacePending: number;
    policy: PolicyKind | null;
  }>(ctx.database, FACTS.bind({ namespace, serviceId, publicKey, ownerId }));
  return {
    hasActive: row?.active != null,
    policy: row?.policy ?? null,
    overCap:
      Number(row?.servicePending ?? 0) >= ctx.config.maxPendingClaims ||
      Number(row?.namespacePending ?? 0) >= ctx.config.maxPendingClaimsPerNamespace,
  };
}

const NONCE_INSERT = compileWithDb<"serviceId" | "nonce" | "expiresAt">((p, db) =>
  db
    .insert(claimNonces)
    .values({ serviceId: p("serviceId"), nonce: p("nonce"), expiresAt: p("expiresAt") }),
);

function nonceInsert(ctx: AppContext, serviceId: string, nonce: string) {
  return NONCE_INSERT(ctx.database.db).bind({
    serviceId,
    nonce,
    expiresAt: ctx.clock.now() + CLAIM_NONCE_TTL_MS,
  });
}

function replay(): ApiError {
  return conflict(
    "NONCE_REPLAY",
    "This nonce was already used for this service in the last 24 hours",
  );
}

type Decision = "pending" | "auto-approved" | "rejected-max-pending" | "rejected-blocked";

/** The decisions that reject a new claim at once, with the reason and actor they record. */
const AUTO_REJECTIONS: Partial<Record<Decision, { reason: string; actor: string }>> = {
  "rejected-max-pending": { reason: "max_pending_reached", actor: "policy:max-pending" },
  "rejected-blocked": { reason: "service_blocked", actor: "policy:blocked" },
};

interface Step {
  from: ClaimStatus | null;
  to: ClaimStatus;
  actor: string;
  event: EventName;
  snapshot: ClaimRow;
}

/** What a new claim goes through at once: submitted, then maybe auto-approved or auto-rejected. */
function creationSteps(
  pending: ClaimRow,
  decision: Decision,
  actor: string,
): { final: ClaimRow; steps: Step[] } {
  const now = pending.createdAt;
  const rejection = AUTO_REJECTIONS[decision];
  if (rejection) {
    const rejected: ClaimRow = {
      ...pending,
      status: "rejected",
      reason: rejection.reason,
      decidedAt: now,
      pendingExpiresAt: null,
    };
    return {
      final: rejected,
      steps: [
        {
          from: null,
          to: "rejected",
          actor: rejection.actor,
          event: "request.rejected",
          snapshot: rejected,
        },
      ],
    };
  }
  const submitted: Step = {
    from: null,
    to: "pending",
    actor,
    event: "request.submitted",
    snapshot: pending,
  };
  if (decision === "pending") return { final: pending, steps: [submitted] };
  const approved: ClaimRow = {
    ...pending,
    status: "approved",
    autoApproved: true,
    decidedAt: now,
    approvedAt: now,
    pendingExpiresAt: null,
  };
  const autoApproval: Step = {
    from: "pending",
    to: "approved",
    actor: "policy:auto-approve",
    event: "request.approved",
    snapshot: approved,
  };
  return { final: approved, steps: [submitted, autoApproval] };
}

/** The namespace's policy first (blocked, then trusted), then the pending caps. */
function decide(facts: Awaited<ReturnType<typeof submissionFacts>>): Decision {
  if (facts.policy === "blocked") return "rejected-blocked";
  if (facts.policy === "auto_approve") return "auto-approved";
  return facts.overCap ? "rejected-max-pending" : "pending";
}

type ClaimParam = Exclude<keyof ClaimRow, "changeSeq">;

/** A new claim's row, stamped with the change number its batch bumped. */
const CLAIM_INSERT = compileWithDb<ClaimParam>((p, db) => {
  const columns = Object.keys(getTableColumns(claims)) as (keyof ClaimRow)[];
  const row = Object.fromEntries(
    columns.map((key) => [key, key === "changeSeq" ? currentChangeSeq : p(key)]),
  );
  return db.insert(claims).values(row as never);
});

/** The claim row, then per step its history row and outbox rows, for one batch. */
async function creationStatements(
  ctx: AppContext,
  pending: ClaimRow,
  decision: Decision,
  actor: string,
) {
  const { final, steps } = creationSteps(pending, decision, actor);
  let deliveries = 0;
  const stmts: Parameters<typeof writeBatch>[1] = [
    bumpChangeSeqByOne(ctx.database.db).bind({}),
    CLAIM_INSERT(ctx.database.db).bind(final),
  ];
  for (const step of steps) {
    stmts.push(
      historyInsert(
        final.id,
        step.from,
        step.to,
        final.createdAt,
        step.actor,
        step.snapshot.reason,
        false,
      ),
    );
    const outbox = await outboxStatements(ctx, step.event, step.snapshot, final.createdAt, false);
    stmts.push(...outbox.statements);
    deliveries += outbox.deliveries;
  }
  return { stmts, final, deliveries };
}

const MESSAGES: Record<Decision | "existing", string> = {
  pending: "Authorization request submitted; waiting for the namespace owner's approval",
  "auto-approved": "Authorization approved automatically by the namespace's policy",
  "rejected-max-pending":
    "Too many pending requests from this service in this namespace; the request was rejected",
  "rejected-blocked": "The namespace owner has blocked this service; the request was rejected",
  existing: "An active authorization request already exists for this agent and service",
};

/**
 * POST /v1/claims after the API key and the agent signature have been verified: one transaction
 * records the nonce, the claim, its history and its events (the outbox).
 */
export async function submitClaim(ctx: AppContext, input: SubmitInput): Promise<SubmitOutcome> {
  const { service } = input.apiKey;
  requireSameService(service.slug, input.body.service);
  const { namespace, publicKey, agentIp } = normalizedInput(input);
  const owner = await existingNamespace(ctx, namespace);
  const facts = await submissionFacts(ctx, owner.id, namespace, service.id, publicKey);
  try {
    const existing = facts.hasActive
      ? await activeClaim(ctx, namespace, service.id, publicKey)
      : null;
    if (existing) {
      await writeBatch(ctx.database, [nonceInsert(ctx, service.id, input.body.nonce)]);
      return { created: false, claim: existing, message: MESSAGES.existing };
    }
    const now = ctx.clock.now();
    const pending: ClaimRow = {
      id: newId.claim(),
      ownerId: owner.id,
      namespace,
      serviceId: service.id,
      serviceSlug: service.slug,
      publicKey,
      agentIp,
      subject: input.body.subject?.trim() || null,
      agentId: input.body.agent_id?.trim() || null,
      agentName: input.body.agent_name?.trim() || null,
      status: "pending",
      reason: null,
      autoApproved: false,
      createdAt: now,
      updatedAt: now,
      changeSeq: 0,
      pendingExpiresAt: now + ctx.config.pendingClaimTtl,
      decidedAt: null,
      approvedAt: null,
      revokedAt: null,
    };
    const decision = decide(facts);
    const { stmts, final, deliveries } = await creationStatements(
      ctx,
      pending,
      decision,
      `service:${service.slug}`,
    );
    await writeBatch(ctx.database, [nonceInsert(ctx, service.id, input.body.nonce), ...stmts]);
    ctx.verifyCache.forget(final);
    ctx.claimStreams.changed(owner.id);
    ctx.metrics.claimTransitions.inc({ to: final.status });
    if (deliveries > 0) ctx.deliveryWorker.wake();
    return { created: true, claim: final, message: MESSAGES[decision] };
  } catch (err) {
    if (isUniqueViolation(err, "claim_nonces")) throw replay();
    // A concurrent identical submission won the race: answer like a resubmission.
    if (isUniqueViolation(err, "claims.namespace")) {
      const winner = await activeClaim(ctx, namespace, service.id, publicKey);
      if (winner) return { created: false, claim: winner, message: MESSAGES.existing };
    }
    throw err;
  }
}
