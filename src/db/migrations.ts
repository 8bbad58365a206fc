// Migrations are embedded in the binary as text; a test checks this list matches drizzle-kit's journal.

import m0000 from "../../migrations/0000_init.sql" with { type: "text" };
import m0001 from "../../migrations/0001_claims.sql" with { type: "text" };
import m0002 from "../../migrations/0002_deliveries.sql" with { type: "text" };
import m0003 from "../../migrations/0003_feed_sequence.sql" with { type: "text" };
import m0004 from "../../migrations/0004_claims_namespace_status.sql" with { type: "text" };
import m0005 from "../../migrations/0005_drop_unused_claim_indexes.sql" with { type: "text" };
import m0006 from "../../migrations/0006_deliveries_webhook_due.sql" with { type: "text" };
import m0007 from "../../migrations/0007_usage_events.sql" with { type: "text" };
import m0008 from "../../migrations/0008_change_log.sql" with { type: "text" };
import m0009 from "../../migrations/0009_policy_service_ids.sql" with { type: "text" };
import m0010 from "../../migrations/0010_claims_owner_seq.sql" with { type: "text" };
import m0011 from "../../migrations/0011_passkeys.sql" with { type: "text" };
import m0012 from "../../migrations/0012_pending_claim_counts.sql" with { type: "text" };
import journal from "../../migrations/meta/_journal.json";

export interface Migration {
  tag: string;
  sql: string;
}

const SQL_BY_TAG: Record<string, string> = {
  "0000_init": m0000,
  "0001_claims": m0001,
  "0002_deliveries": m0002,
  "0003_feed_sequence": m0003,
  "0004_claims_namespace_status": m0004,
  "0005_drop_unused_claim_indexes": m0005,
  "0006_deliveries_webhook_due": m0006,
  "0007_usage_events": m0007,
  "0008_change_log": m0008,
  "0009_policy_service_ids": m0009,
  "0010_claims_owner_seq": m0010,
  "0011_passkeys": m0011,
  "0012_pending_claim_counts": m0012,
};

export const MIGRATIONS: Migration[] = journal.entries.map((entry) => {
  const sql = SQL_BY_TAG[entry.tag];
  if (sql === undefined)
    throw new Error(`migration ${entry.tag} is in the journal but not embedded`);
  return { tag: entry.tag, sql };
});

export function embeddedTags(): string[] {
  return Object.keys(SQL_BY_TAG);
}
