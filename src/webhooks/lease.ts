import { sql } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { type WebhookRow, webhooks } from "../db/schema.ts";
import { liveSecrets } from "./service.ts";

/** A delivery as the lease returns it: what its attempt needs, its event's payload included. */
export interface LeasedRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  attempt_count: number;
  payload: string;
}

/** The columns of a webhook an attempt uses (reading all of them cost a round more than its probes). */
const SENDING_COLUMNS = {
  id: webhooks.id,
  url: webhooks.url,
  enabled: webhooks.enabled,
  failingSince: webhooks.failingSince,
  secretCiphertext: webhooks.secretCiphertext,
  secretKeyId: webhooks.secretKeyId,
  previousSecretCiphertext: webhooks.previousSecretCiphertext,
  previousSecretKeyId: webhooks.previousSecretKeyId,
  previousSecretExpiresAt: webhooks.previousSecretExpiresAt,
};

export type SendingWebhook = Pick<WebhookRow, keyof typeof SENDING_COLUMNS>;

// Due and not leased (or its lease expired: a crashed process's work is taken over).
const DUE = (d: string) =>
  `${d}.status = 'pending' AND ${d}.next_attempt_at <= ? AND (${d}.lease_expires_at IS NULL OR ${d}.lease_expires_at <= ?)`;

/**
 * Webhooks with due work (one index probe each), with their rows (url, secrets, enabled,
 * failingSince: read once per round, not once per delivery) and how many deliveries are due,
 * counted only up to `share`: a bounded probe, so a backlog is never scanned. (`webhooks.id` is
 * written out: in a selected field drizzle renders a column unqualified, and inside the subquery
 * `id` would then be the delivery's.)
 */
export function dueWebhooks(ctx: AppContext, now: number, share: number) {
  const due = sql`d.status = 'pending' AND d.next_attempt_at <= ${now}
    AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ${now})`;
  return ctx.database.db
    .select({
      webhook: SENDING_COLUMNS,
      due: sql<number>`(SELECT count(*) FROM (SELECT 1 FROM deliveries d WHERE d.webhook_id = webhooks.id AND ${due} LIMIT ${share}))`,
    })
    .from(webhooks)
    .where(sql`EXISTS (SELECT 1 FROM deliveries d WHERE d.webhook_id = webhooks.id AND ${due})`);
}

const leaseSql = new Map<number, string>();

/** The lease statement for `n` webhooks (the text depends only on n, so it is built once per n). */
function leaseSqlFor(n: number): string {
  let text = leaseSql.get(n);
  if (text) return text;
  const oneWebhook = `SELECT id FROM (SELECT d.id FROM deliveries d WHERE d.webhook_id = ? AND ${DUE("d")} ORDER BY d.next_attempt_at LIMIT ?)`;
  // The guard's columns are written `+col` so SQLite finds the rows by id (the IN list): it
  // would otherwise walk (status, next_attempt_at) over the whole due backlog.
  text = `UPDATE deliveries SET lease_owner = ?, lease_expires_at = ?
WHERE id IN (${Array.from({ length: n }, () => oneWebhook).join(" UNION ALL ")})
  AND ${DUE("deliveries").replace(/deliveries\./g, "+deliveries.")}
RETURNING id, webhook_id, event_id, event_type, attempt_count,
  (SELECT e.payload FROM events e WHERE e.id = deliveries.event_id) AS payload`;
  leaseSql.set(n, text);
  return text;
}

/**
 * ONE guarded UPDATE … RETURNING that leases, per webhook of `plan`, up to its count of due
 * deliveries (oldest first), and returns what their attempts need. Rows another process leased
 * in the meantime fail the guard and drop out.
 */
export function leaseStatement(
  plan: [webhookId: string, limit: number][],
  owner: string,
  expiresAt: number,
  now: number,
): { toSQL(): { sql: string; params: unknown[] } } {
  const params: unknown[] = [owner, expiresAt];
  for (const [webhookId, limit] of plan) params.push(webhookId, now, now, limit);
  params.push(now, now);
  const text = leaseSqlFor(plan.length);
  return { toSQL: () => ({ sql: text, params }) };
}

/** A webhook as one round read it; its secrets are opened once for all its deliveries. */
export class RoundWebhook {
  private opened: { secrets: string[] } | { error: unknown } | undefined;

  constructor(
    private ctx: AppContext,
    readonly row: SendingWebhook,
  ) {}

  /** The live secrets; throws (every time) what opening them threw, e.g. SecretUnavailableError. */
  readonly secrets = (): string[] => {
    if (!this.opened) {
      try {
        this.opened = { secrets: liveSecrets(this.ctx, this.row) };
      } catch (error) {
        this.opened = { error };
      }
    }
    if ("error" in this.opened) throw this.opened.error;
    return this.opened.secrets;
  };
}
