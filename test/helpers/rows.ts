import type { TestServer } from "./server.ts";

/** Reading a test server's database directly, for checks the API does not show. */

export async function queryRows(
  t: TestServer,
  sql: string,
  args: (string | number | null)[] = [],
): Promise<Record<string, unknown>[]> {
  const rs = await t.server.ctx.database.client.execute({ sql, args });
  return rs.rows.map((row) => ({ ...row }));
}

export async function count(
  t: TestServer,
  table: "services" | "api_keys" | "webhooks",
  where = "1 = 1",
  args: (string | number | null)[] = [],
): Promise<number> {
  const [row] = await queryRows(t, `SELECT count(*) AS n FROM ${table} WHERE ${where}`, args);
  return Number(row?.n ?? 0);
}

/** Every row an owner or claims route may write (usage timestamps aside), for before/after checks. */
export async function everyRow(t: TestServer): Promise<string> {
  const tables: [string, string][] = [
    ["owners", "id"],
    ["sessions", "id"],
    ["personal_access_tokens", "id"],
    ["services", "id"],
    ["api_keys", "id"],
    ["webhooks", "id"],
    ["events", "id"],
    ["deliveries", "id"],
    ["delivery_attempts", "id"],
    ["claims", "id"],
    ["claim_transitions", "id"],
    ["claim_nonces", "service_id, nonce"],
    ["namespace_policies", "owner_id"],
    ["namespace_policy_services", "owner_id, service_id"],
  ];
  const out: Record<string, unknown> = {};
  for (const [table, order] of tables) {
    const rows = await queryRows(t, `SELECT * FROM ${table} ORDER BY ${order}`);
    // Written in the background from memory; not what a request under test changes.
    out[table] = rows.map(({ last_used_at: _flushed, ...rest }) => rest);
  }
  return JSON.stringify(out);
}
