import { sql } from "drizzle-orm";
import { toIso } from "../clock.ts";
import type { ClaimRow } from "../db/schema.ts";
import { newId } from "../ids.ts";
import type { EventName } from "../webhooks/model.ts";
import { agentKeyOf } from "./view.ts";

/** The payload of webhooks.md §2: the seed's format plus id, public_key and optional fields. */
export function eventPayload(id: string, type: EventName, claim: ClaimRow, at: number) {
  const data: Record<string, unknown> = {
    claim_id: claim.id,
    namespace: claim.namespace,
    service: claim.serviceSlug,
    agent_key: agentKeyOf(claim.publicKey),
    public_key: claim.publicKey,
    status: claim.status,
  };
  if (claim.subject) data.subject = claim.subject;
  if (claim.agentId) data.agent_id = claim.agentId;
  if (claim.agentName) data.agent_name = claim.agentName;
  if (claim.reason) data.reason = claim.reason;
  if (claim.autoApproved && type === "request.approved") data.auto_approved = true;
  return { id, event: type, timestamp: toIso(at), data };
}

/**
 * The outbox row for `claim` entering its current status. With `onlyIfChanged`, the row is
 * written only when the statement before it in the same batch changed a row (SQLite `changes()`),
 * which ties the event to a guarded transition inside one transaction.
 */
export function eventInsert(type: EventName, claim: ClaimRow, at: number, onlyIfChanged: boolean) {
  const id = newId.event();
  const payload = JSON.stringify(eventPayload(id, type, claim, at));
  const guard = onlyIfChanged ? sql`WHERE changes() = 1` : sql``;
  return sql`INSERT INTO events (id, service_id, claim_id, type, payload, created_at)
    SELECT ${id}, ${claim.serviceId}, ${claim.id}, ${type}, ${payload}, ${at} ${guard}`;
}
