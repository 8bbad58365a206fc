import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { type ClaimRow, events } from "../db/schema.ts";
import { compiledRowInsert } from "../db/writes.ts";
import { newId } from "../ids.ts";
import { deliveryInserts, type EventName, subscribers } from "../webhooks/index.ts";
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

const EVENT = compiledRowInsert(events, {
  id: "id",
  serviceId: "serviceId",
  claimId: "claimId",
  type: "type",
  payload: "payload",
  createdAt: "createdAt",
});

/**
 * The outbox rows for `claim` entering its current status: the event and one delivery per
 * subscribed webhook. With `onlyIfChanged`, the event is written only when the statement before
 * it in the same batch changed a row (SQLite `changes()`), which ties it to a guarded transition
 * inside one transaction; deliveries follow the event row. `deliveries` says whether the
 * delivery worker needs waking after the commit.
 */
export async function outboxStatements(
  ctx: AppContext,
  type: EventName,
  claim: ClaimRow,
  at: number,
  onlyIfChanged: boolean,
) {
  const id = newId.event();
  const payload = JSON.stringify(eventPayload(id, type, claim, at));
  const event = EVENT(onlyIfChanged).bind({
    id,
    serviceId: claim.serviceId,
    claimId: claim.id,
    type,
    payload,
    createdAt: at,
  });
  const deliveries = deliveryInserts(id, type, await subscribers(ctx, claim.serviceId, type), at);
  return { statements: [event, ...deliveries], deliveries: deliveries.length };
}
