import { queryRows } from "../helpers/rows.ts";
import type { TestServer } from "../helpers/server.ts";

/** Formats and snapshots for the service and key route tests. */

export const KEY_RE = /^sgl_sk_(prod|test)_[0-9A-Za-z]{38}$/;

/** Every row of the service-management tables, in a stable order, for before/after comparisons. */
export async function snapshot(t: TestServer): Promise<string> {
  const parts: Record<string, unknown> = {};
  for (const table of ["services", "api_keys", "webhooks"]) {
    parts[table] = await queryRows(t, `SELECT * FROM ${table} ORDER BY id`);
  }
  return JSON.stringify(parts);
}
