/**
 * The overview's stats and the live-update streams read the biggest tables (claims, deliveries)
 * on every call or every second: their statements must search an index, never scan the table.
 * The plans are read from SQLite itself (EXPLAIN QUERY PLAN) against the migrated schema.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { countsByDay } from "../../src/claims/stats.ts";
import { changesAfter } from "../../src/claims/stream.ts";
import { countsByHour, ownerWebhooks } from "../../src/webhooks/stats.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** The plan's lines, e.g. "SEARCH claims USING INDEX claims_owner_idx (owner_id=? AND created_at>?)". */
async function planOf(statement: { toSQL(): { sql: string; params: unknown[] } }) {
  const { sql, params } = statement.toSQL();
  const rs = await t.server.ctx.database.client.execute({
    sql: `EXPLAIN QUERY PLAN ${sql}`,
    args: params as never[],
  });
  return rs.rows.map((row) => String(row.detail));
}

function expectNoScanOf(plan: string[], tables: string[]) {
  for (const line of plan)
    for (const table of tables) expect(line).not.toMatch(new RegExp(`^SCAN ${table}\\b`));
}

describe("query plans of the stats and stream statements", () => {
  test("claims per day: an index range on (owner_id, created_at)", async () => {
    const plan = await planOf(countsByDay(t.server.ctx, "owner_x", 0));
    expectNoScanOf(plan, ["claims"]);
    expect(plan.some((l) => /^SEARCH claims USING INDEX claims_owner_idx/.test(l))).toBe(true);
  });

  test("stream changes: an index range on (owner_id, change_seq), already in order", async () => {
    const plan = await planOf(changesAfter(t.server.ctx, "owner_x", 10));
    expectNoScanOf(plan, ["claims"]);
    expect(plan.some((l) => /^SEARCH claims USING INDEX claims_owner_seq_idx/.test(l))).toBe(true);
    // The index gives the order: no sort step.
    expect(plan.some((l) => /TEMP B-TREE FOR ORDER BY/.test(l))).toBe(false);
  });

  test("deliveries per hour: an index range per webhook on (webhook_id, created_at)", async () => {
    const plan = await planOf(countsByHour(t.server.ctx, ["wh_a", "wh_b"], 0));
    expectNoScanOf(plan, ["deliveries"]);
    expect(plan.some((l) => /^SEARCH deliveries USING INDEX deliveries_webhook_idx/.test(l))).toBe(
      true,
    );
  });

  test("the namespace's webhooks: through the owner's services, by index", async () => {
    const plan = await planOf(ownerWebhooks(t.server.ctx, "owner_x"));
    expectNoScanOf(plan, ["services", "webhooks"]);
    expect(plan.some((l) => /^SEARCH services USING INDEX services_owner_idx/.test(l))).toBe(true);
    expect(plan.some((l) => /^SEARCH webhooks USING INDEX webhooks_service_idx/.test(l))).toBe(
      true,
    );
  });
});
