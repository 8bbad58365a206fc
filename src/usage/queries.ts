import { and, asc, count, countDistinct, desc, eq, gte, lt, or, type SQL, sql } from "drizzle-orm";
import { agentKeyOf } from "../claims/index.ts";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { pagedRows } from "../db/client.ts";
import { type Owner, type UsageEventRow, usageEvents } from "../db/schema.ts";
import { validationError } from "../http/errors.ts";
import { type Page, paginated } from "../http/pagination.ts";
import { normalizeAgentKey } from "../signing/index.ts";
import { normalizeSlug } from "../slugs.ts";
import type { UsageEvent, UsageFilterQuery, UsageRow, UsageSortOrder } from "./model.ts";

// Date-only or date-time with an explicit zone; Date.parse alone would take "2026" or "March 4".
const ISO_TIMESTAMP =
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

function timestampParam(field: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = ISO_TIMESTAMP.test(value.trim()) ? Date.parse(value.trim()) : Number.NaN;
  if (Number.isNaN(ms))
    throw validationError(field, "must be an ISO 8601 timestamp, e.g. 2026-03-04T12:00:00.000Z");
  return ms;
}

export interface UsageFilters {
  subject?: string;
  provider?: string;
  /** An agent id, and the canonical key when the value is also a valid agent key. */
  agent?: { id: string; key: string | null };
  from?: number;
  to?: number;
}

/** Validates and normalises the filter parameters shared by both owner routes. */
export function usageFilters(query: UsageFilterQuery): UsageFilters {
  const agent = query.agent?.trim();
  const filters: UsageFilters = {
    subject: query.subject?.trim(),
    provider: query.provider === undefined ? undefined : normalizeSlug("provider", query.provider),
    // A key in any accepted form matches the stored canonical key (an unencoded `+` of base64
    // arrives as a space); any value also matches an agent id as is.
    agent:
      agent === undefined
        ? undefined
        : { id: agent, key: normalizeAgentKey(agent.replaceAll(" ", "+")) },
    from: timestampParam("from", query.from),
    to: timestampParam("to", query.to),
  };
  if (filters.from !== undefined && filters.to !== undefined && filters.from > filters.to)
    throw validationError("to", "must not be before `from`");
  return filters;
}

function appliedFilters(filters: UsageFilters) {
  return {
    subject: filters.subject ?? null,
    provider: filters.provider ?? null,
    agent: filters.agent?.key ?? filters.agent?.id ?? null,
    from: filters.from === undefined ? null : toIso(filters.from),
    to: filters.to === undefined ? null : toIso(filters.to),
  };
}

/** One owner's events that pass the filters: always a range of the (owner_id, received_at) index. */
function whereOf(owner: Owner, f: UsageFilters): SQL | undefined {
  const e = usageEvents;
  const agent = f.agent;
  return and(
    eq(e.ownerId, owner.id),
    f.subject !== undefined ? eq(e.subject, f.subject) : undefined,
    f.provider !== undefined ? eq(e.serviceSlug, f.provider) : undefined,
    agent === undefined
      ? undefined
      : agent.key
        ? or(eq(e.agentId, agent.id), eq(e.publicKey, agent.key))
        : eq(e.agentId, agent.id),
    f.from !== undefined ? gte(e.receivedAt, f.from) : undefined,
    f.to !== undefined ? lt(e.receivedAt, f.to) : undefined,
  );
}

// Only the exact outcome `success` (any case) is a success; denied, error and anything else fail.
const isSuccess = sql`CASE WHEN lower(${usageEvents.outcome}) = 'success' THEN 1 ELSE 0 END`;
const totalCalls = sql<number>`count(*)`;
const successCalls = sql<number>`coalesce(sum(${isSuccess}), 0)`;
const lastUsedAt = sql<number>`max(${usageEvents.receivedAt})`;
const GROUP = [
  usageEvents.subject,
  usageEvents.serviceSlug,
  usageEvents.publicKey,
  usageEvents.agentId,
] as const;

const ORDER: Record<UsageSortOrder, SQL[]> = {
  recent: [desc(lastUsedAt)],
  calls_desc: [desc(totalCalls), desc(lastUsedAt)],
  subject_asc: [asc(usageEvents.subject), desc(lastUsedAt)],
};

async function groupedRows(
  ctx: AppContext,
  where: SQL | undefined,
  sort: UsageSortOrder,
  page: Page,
) {
  const rows = await ctx.database.db
    .select({
      subject: usageEvents.subject,
      provider: usageEvents.serviceSlug,
      agentId: usageEvents.agentId,
      publicKey: usageEvents.publicKey,
      total: totalCalls,
      success: successCalls,
      lastUsedAt,
    })
    .from(usageEvents)
    .where(where)
    .groupBy(...GROUP)
    // The group columns break ties, so pages never overlap or skip a row.
    .orderBy(...ORDER[sort], ...GROUP.map((c) => asc(c)))
    .limit(page.limit)
    .offset(page.offset);
  return rows.map(
    (r): UsageRow => ({
      subject: r.subject,
      provider: r.provider,
      agent_id: r.agentId,
      public_key: r.publicKey,
      total_calls: Number(r.total),
      success_calls: Number(r.success),
      error_calls: Number(r.total) - Number(r.success),
      last_used_at: toIso(Number(r.lastUsedAt)),
    }),
  );
}

async function groupCount(ctx: AppContext, where: SQL | undefined): Promise<number> {
  const db = ctx.database.db;
  const groups = db
    .select({ one: sql`1` })
    .from(usageEvents)
    .where(where)
    .groupBy(...GROUP)
    .as("usage_groups");
  const [row] = await db.select({ n: count() }).from(groups);
  return row?.n ?? 0;
}

/** Totals over every event that passes the filters (not only the page shown). */
async function summary(ctx: AppContext, where: SQL | undefined) {
  const [row] = await ctx.database.db
    .select({
      total: totalCalls,
      success: successCalls,
      subjects: countDistinct(usageEvents.subject),
      providers: countDistinct(usageEvents.serviceSlug),
      // An agent is a (key, agent id) pair, as in the grouping; ids cannot hold NUL.
      agents: sql<number>`count(DISTINCT ${usageEvents.publicKey} || char(0) || coalesce(${usageEvents.agentId}, ''))`,
    })
    .from(usageEvents)
    .where(where);
  const total = Number(row?.total ?? 0);
  const success = Number(row?.success ?? 0);
  return {
    total_events: total,
    successful_events: success,
    failed_events: total - success,
    unique_subjects: Number(row?.subjects ?? 0),
    unique_providers: Number(row?.providers ?? 0),
    unique_agents: Number(row?.agents ?? 0),
  };
}

/** GET /v1/namespaces/{namespace}/usage: grouped by (subject, service, agent key, agent id). */
export async function usageReport(
  ctx: AppContext,
  owner: Owner,
  filters: UsageFilters,
  sort: UsageSortOrder,
  page: Page,
) {
  const where = whereOf(owner, filters);
  const [rows, total, totals] = await Promise.all([
    groupedRows(ctx, where, sort, page),
    groupCount(ctx, where),
    summary(ctx, where),
  ]);
  return {
    ...paginated("rows", rows, page, total),
    summary: totals,
    applied_filters: { ...appliedFilters(filters), sort },
  };
}

function eventView(row: UsageEventRow): UsageEvent {
  return {
    event_id: row.eventId,
    namespace: row.namespace,
    service: row.serviceSlug,
    service_id: row.serviceId,
    public_key: row.publicKey,
    agent_key: agentKeyOf(row.publicKey),
    agent_id: row.agentId,
    subject: row.subject,
    protocol: row.protocol,
    action: row.action,
    outcome: row.outcome,
    status_code: row.statusCode,
    duration_ms: row.durationMs,
    response_bytes: row.responseBytes,
    request_method: row.requestMethod,
    request_path: row.requestPath,
    remote_ip: row.remoteIp,
    received_at: toIso(row.receivedAt),
  };
}

/** GET /v1/namespaces/{namespace}/usage/events: the raw events, newest first. */
export async function listUsageEvents(
  ctx: AppContext,
  owner: Owner,
  filters: UsageFilters,
  page: Page,
) {
  const { rows, total } = await pagedRows(ctx.database, usageEvents, {
    where: whereOf(owner, filters),
    orderBy: [desc(usageEvents.receivedAt), desc(usageEvents.id)],
    page,
  });
  return {
    ...paginated("events", rows.map(eventView), page, total),
    applied_filters: appliedFilters(filters),
  };
}
