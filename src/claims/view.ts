import { toIso } from "../clock.ts";
import type { ClaimRow } from "../db/schema.ts";
import { parseAgentKey, toDidKey } from "../signing/index.ts";
import type { Claim } from "./model.ts";

/** The `did:key:z6Mk…` form of a stored canonical key. */
export function agentKeyOf(publicKey: string): string {
  const raw = parseAgentKey(publicKey);
  return raw ? toDidKey(raw) : publicKey;
}

export function claimView(row: ClaimRow): Claim {
  return {
    claim_id: row.id,
    namespace: row.namespace,
    service: row.serviceSlug,
    service_id: row.serviceId,
    public_key: row.publicKey,
    agent_key: agentKeyOf(row.publicKey),
    agent_ip: row.agentIp,
    subject: row.subject,
    agent_id: row.agentId,
    agent_name: row.agentName,
    status: row.status,
    reason: row.reason,
    created_at: toIso(row.createdAt),
    decided_at: toIso(row.decidedAt),
    approved_at: toIso(row.approvedAt),
    revoked_at: toIso(row.revokedAt),
  };
}
