import { and, count, eq, gte, sql } from "drizzle-orm";
import { t } from "elysia";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { claims, type Owner } from "../db/schema.ts";
import { DOC_AS, integerParam } from "../http/pagination.ts";

const DAY_MS = 86_400_000;
export const MAX_DAYS = 90;

/** The outcomes a day's requests are counted by (`auto_approved` split from `approved`). */
const OUTCOMES = [
  "pending",
  "approved",
  "auto_approved",
  "rejected",
  "revoked",
  "expired",
] as const;
type Outcome = (typeof OUTCOMES)[number];

export const ClaimStatsQuery = t.Object(
  {
    days: t.Optional(
      t.String({
        description: `decimal integer 1–${MAX_DAYS}, default 30: UTC days up to and including today`,
        [DOC_AS]: { type: "integer", minimum: 1, maximum: MAX_DAYS, default: 30 },
      }),
    ),
  },
  { additionalProperties: false },
);

const DayBucket = t.Object({
  day: t.String({ description: "UTC day, YYYY-MM-DD" }),
  total: t.Integer(),
  pending: t.Integer(),
  approved: t.Integer({ description: "approved by the owner, and still approved" }),
  auto_approved: t.Integer({ description: "approved by the namespace policy, and still approved" }),
  rejected: t.Integer({ description: "rejected by the owner, the block list or the pending cap" }),
  revoked: t.Integer(),
  expired: t.Integer(),
});

export const ClaimStatsModel = t.Object(
  {
    namespace: t.String(),
    days: t.Integer(),
    from: t.String({ description: "start of the first day (inclusive)" }),
    to: t.String({ description: "end of the last day (exclusive)" }),
    buckets: t.Array(DayBucket, {
      description:
        "One per UTC day, oldest first, zero-filled: the authorization requests created that day, by their current status",
    }),
  },
  { description: "Authorization requests per day by outcome" },
);

/**
 * Authorization requests created per UTC day over the last `days` days, counted by where each
 * stands now (an approved-then-revoked request counts as revoked; an auto-approved one as
 * `auto_approved` while it stays approved). One indexed range read (claims_owner_idx), grouped
 * in SQL by integer division of the millisecond timestamp.
 */
export async function claimStats(ctx: AppContext, owner: Owner, query: { days?: string }) {
  const days = integerParam("days", query.days, 30, 1, MAX_DAYS);
  const firstDay = Math.floor(ctx.clock.now() / DAY_MS) - (days - 1);
  const from = firstDay * DAY_MS;
  const rows = await countsByDay(ctx, owner.id, from);
  const buckets = Array.from({ length: days }, (_, i) => ({
    day: toIso((firstDay + i) * DAY_MS).slice(0, 10),
    total: 0,
    ...(Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>),
  }));
  for (const row of rows) {
    const bucket = buckets[row.day - firstDay];
    // Created "in the future" by a clock that went back: outside the window asked for.
    if (!bucket) continue;
    const outcome: Outcome = row.status === "approved" && row.auto ? "auto_approved" : row.status;
    bucket[outcome] += row.n;
    bucket.total += row.n;
  }
  return {
    namespace: owner.namespace,
    days,
    from: toIso(from),
    to: toIso((firstDay + days) * DAY_MS),
    buckets,
  };
}

/** Requests created since `from` per (UTC day number, status, auto-approved). */
export function countsByDay(ctx: AppContext, ownerId: string, from: number) {
  // Inlined: a bound JS number arrives as a REAL, which would make the division fractional.
  const day = sql<number>`${claims.createdAt} / ${sql.raw(String(DAY_MS))}`;
  return ctx.database.db
    .select({ day, status: claims.status, auto: claims.autoApproved, n: count() })
    .from(claims)
    .where(and(eq(claims.ownerId, ownerId), gte(claims.createdAt, from)))
    .groupBy(day, claims.status, claims.autoApproved);
}
