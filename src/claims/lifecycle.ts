import { and, eq, isNotNull, lte, type SQL, sql } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { type Db, writeBatch } from "../db/client.ts";
import { compileWithDb } from "../db/compiled.ts";
import {
  type ClaimRow,
  type ClaimStatus,
  claims,
  claimTransitions,
  feedTombstones,
  sequences,
} from "../db/schema.ts";
import { compiledRowInsert } from "../db/writes.ts";
import { ApiError, conflict, notFound } from "../http/errors.ts";
import type { EventName } from "../webhooks/index.ts";
import { outboxStatements } from "./events.ts";

/**
 * Claim changes are numbered from a sequence that never goes back (deleting claims cannot make a
 * number come round again): a batch bumps it, then stamps the change with its current value.
 * Inside the write lock, so numbers follow commit order: the feed's cursor relies on that.
 */
const CLAIM_CHANGES = "claim_changes";
export function bumpChangeSeq(db: Db, by: SQL | number = 1) {
  return db
    .update(sequences)
    .set({ value: sql`${sequences.value} + ${by}` })
    .where(eq(sequences.name, CLAIM_CHANGES));
}
/** bumpChangeSeq(db) compiled: the claim paths bump by one on every write. */
export const bumpChangeSeqByOne = compileWithDb((_p, db) => bumpChangeSeq(db));

export const currentChangeSeq = sql<number>`(SELECT ${sequences.value} FROM ${sequences} WHERE ${sequences.name} = ${CLAIM_CHANGES})`;

/** The latest change number handed out (0 before the first): where a fresh event stream starts. */
export async function latestChangeSeq(db: Db): Promise<number> {
  const [row] = await db
    .select({ value: sequences.value })
    .from(sequences)
    .where(eq(sequences.name, CLAIM_CHANGES))
    .limit(1);
  return row?.value ?? 0;
}

/**
 * Before an account's claims are deleted: one numbered feed tombstone per approved claim on a
 * live service, so services following the feed drop them (each gets its own change number).
 */
export function feedTombstoneStatements(db: Db, ownerId: string, now: number) {
  const approved = and(
    eq(claims.ownerId, ownerId),
    eq(claims.status, "approved"),
    isNotNull(claims.serviceId),
  );
  const howMany = sql<number>`(SELECT count(*) FROM ${claims} WHERE ${approved})`;
  return [
    bumpChangeSeq(db, howMany),
    db.insert(feedTombstones).select(
      db
        .select({
          claimId: claims.id,
          serviceId: sql<string>`${claims.serviceId}`.as("service_id"),
          changeSeq:
            sql<number>`${currentChangeSeq} - ${howMany} + row_number() OVER (ORDER BY ${claims.id})`.as(
              "change_seq",
            ),
          removedAt: sql<number>`${now}`.as("removed_at"),
        })
        .from(claims)
        .where(approved),
    ),
  ];
}

export type Action = "approve" | "reject" | "revoke" | "expire";

interface Transition {
  from: ClaimStatus;
  to: ClaimStatus;
  event: EventName;
  stamps: (now: number) => Partial<ClaimRow>;
}

/** The lifecycle, as data: which status each action leaves from and what it records. */
export const TRANSITIONS: Record<Action, Transition> = {
  approve: {
    from: "pending",
    to: "approved",
    event: "request.approved",
    stamps: (now) => ({ decidedAt: now, approvedAt: now, pendingExpiresAt: null }),
  },
  reject: {
    from: "pending",
    to: "rejected",
    event: "request.rejected",
    stamps: (now) => ({ decidedAt: now, pendingExpiresAt: null }),
  },
  revoke: {
    from: "approved",
    to: "revoked",
    event: "request.revoked",
    stamps: (now) => ({ revokedAt: now }),
  },
  expire: {
    from: "pending",
    to: "expired",
    event: "request.expired",
    stamps: () => ({ pendingExpiresAt: null }),
  },
};

/** A history row for `claim`'s latest change, optionally only if the previous statement changed a row. */
const HISTORY = compiledRowInsert(claimTransitions, {
  claimId: "claimId",
  fromStatus: "from",
  toStatus: "to",
  at: "at",
  actor: "actor",
  reason: "reason",
});

export function historyInsert(
  claimId: string,
  from: ClaimStatus | null,
  to: ClaimStatus,
  at: number,
  actor: string,
  reason: string | null,
  onlyIfChanged: boolean,
) {
  return HISTORY(onlyIfChanged).bind({
    claimId,
    from,
    to,
    at,
    actor,
    reason,
  });
}

export async function findClaim(ctx: AppContext, claimId: string): Promise<ClaimRow | null> {
  const [row] = await ctx.database.db.select().from(claims).where(eq(claims.id, claimId)).limit(1);
  return row ?? null;
}

/**
 * Moves a claim along one edge of the lifecycle. The update is guarded on the current status in
 * the same statement, and the history and event rows are written only if it changed the row, all
 * in one transaction: concurrent approve/reject leave exactly one winner and one event.
 */
export async function transitionClaim(
  ctx: AppContext,
  claim: ClaimRow,
  action: Action,
  actor: string,
  reason: string | null,
): Promise<ClaimRow> {
  const edge = TRANSITIONS[action];
  const now = ctx.clock.now();
  const after: ClaimRow = {
    ...claim,
    ...edge.stamps(now),
    status: edge.to,
    // Each decision carries its own reason; a revoke does not repeat the approval's.
    reason,
    updatedAt: now,
  };
  const db = ctx.database.db;
  const outbox = await outboxStatements(ctx, edge.event, after, now, true);
  const [, updated] = await writeBatch(ctx.database, [
    bumpChangeSeqByOne(db).bind({}),
    db
      .update(claims)
      .set({
        ...edge.stamps(now),
        status: edge.to,
        reason: after.reason,
        updatedAt: now,
        changeSeq: currentChangeSeq,
      })
      .where(and(eq(claims.id, claim.id), eq(claims.status, edge.from))),
    // Only after the guarded update above: history and outbox follow a change that won.
    historyInsert(claim.id, edge.from, edge.to, now, actor, reason, true),
    ...outbox.statements,
  ]);
  if (updated?.rowsAffected !== 1) {
    const current = await findClaim(ctx, claim.id);
    if (!current) throw notFound("Claim");
    throw conflict("INVALID_TRANSITION", `Cannot ${action} a claim that is ${current.status}`);
  }
  ctx.verifyCache.forget(after);
  ctx.claimStreams.changed(claim.ownerId);
  ctx.metrics.claimTransitions.inc({ to: edge.to });
  if (outbox.deliveries > 0) ctx.deliveryWorker.wake();
  return after;
}

/** Expires pending claims past their TTL (the croner job calls this). Returns how many. */
export async function expirePendingClaims(ctx: AppContext, batchSize = 500): Promise<number> {
  const due = await ctx.database.db
    .select()
    .from(claims)
    .where(and(eq(claims.status, "pending"), lte(claims.pendingExpiresAt, ctx.clock.now())))
    .limit(batchSize);
  let expired = 0;
  for (const claim of due) {
    try {
      await transitionClaim(ctx, claim, "expire", "system:expiry", "pending_ttl_elapsed");
      expired++;
    } catch (err) {
      // Decided by its owner in the meantime: nothing to expire.
      if (!(err instanceof ApiError && err.code === "INVALID_TRANSITION")) throw err;
    }
  }
  return expired;
}
