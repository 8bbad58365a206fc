/**
 * The overview's stats and the live-update streams read the biggest tables (claims, deliveries)
 * on every call or every second: their statements must search an index, never scan the table.
 * The plans are read from SQLite itself (EXPLAIN QUERY PLAN) against the migrated schema.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { countsByDay } from "../../src/claims/stats.ts";
import { changesAfter } from "../../src/claims/stream.ts";
import { dueWebhooks, leaseStatement } from "../../src/webhooks/lease.ts";
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

  // The delivery worker runs these once per round while a backlog may hold millions of rows.
  test("a delivery round's lease: each webhook's share by index, the rows by id", async () => {
    const plan = await planOf(
      leaseStatement(
        [
          ["wh_a", 4],
          ["wh_b", 2],
        ],
        "wrk_x",
        2,
        1,
      ),
    );
    expectNoScanOf(plan, ["deliveries", "d", "events", "e"]);
    // The updated rows are found by id (the IN list), never by walking (status, next_attempt_at).
    expect(plan[0]).toMatch(
      /^SEARCH deliveries USING INDEX sqlite_autoindex_deliveries_1 \(id=\?\)/,
    );
    expect(plan.some((l) => /deliveries_due_idx/.test(l))).toBe(false);
    const perWebhook = plan.filter((l) =>
      /^SEARCH d USING INDEX deliveries_webhook_due_idx/.test(l),
    );
    expect(perWebhook).toHaveLength(2);
    expect(plan.some((l) => /TEMP B-TREE FOR ORDER BY/.test(l))).toBe(false);
  });

  test("a delivery round's due webhooks: one bounded index probe per webhook", async () => {
    const plan = await planOf(dueWebhooks(t.server.ctx, 1, 4));
    expectNoScanOf(plan, ["deliveries", "d"]);
    expect(plan.some((l) => /deliveries_due_idx/.test(l))).toBe(false);
  });
});
