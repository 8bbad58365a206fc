import { expect } from "bun:test";
import type { JsonResponse, TestServer } from "../helpers/server.ts";

/** Shared assertions for the service, key and webhook route tests. */

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const KEY_RE = /^sgl_sk_(prod|test)_[0-9A-Za-z]{38}$/;
export const WHSEC_RE = /^whsec_[A-Za-z0-9+/]{43}=$/;

/** The one error shape: `{error, code, details?, request_id}` plus the X-Request-ID header. */
export function expectError(res: JsonResponse, status: number, code: string): void {
  if (res.status !== status || res.body?.code !== code) {
    throw new Error(
      `expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`,
    );
  }
  expect(typeof res.body.error).toBe("string");
  expect(res.body.error.length).toBeGreaterThan(0);
  expect(typeof res.body.request_id).toBe("string");
  expect(res.headers.get("x-request-id")).toBe(res.body.request_id);
  if (res.body.details !== undefined) {
    expect(Array.isArray(res.body.details)).toBe(true);
    for (const d of res.body.details) {
      expect(typeof d.field).toBe("string");
      expect(typeof d.message).toBe("string");
    }
  }
  // No internals leak into error bodies.
  expect(JSON.stringify(res.body)).not.toMatch(/SQLITE|stack|at .*\.ts:\d+/i);
}

/** A validation error that names `field` among its details. */
export function expectValidation(res: JsonResponse, field?: string): void {
  expectError(res, 400, "VALIDATION_ERROR");
  expect(Array.isArray(res.body.details)).toBe(true);
  if (field !== undefined) {
    const fields = res.body.details.map((d: { field: string }) => d.field);
    expect(fields).toContain(field);
  }
}

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

/** Every row of the service-management tables, in a stable order, for before/after comparisons. */
export async function snapshot(t: TestServer): Promise<string> {
  const parts: Record<string, unknown> = {};
  for (const table of ["services", "api_keys", "webhooks"]) {
    parts[table] = await queryRows(t, `SELECT * FROM ${table} ORDER BY id`);
  }
  return JSON.stringify(parts);
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
