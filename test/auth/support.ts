import { createHash } from "node:crypto";
import { ApiClient, type JsonResponse, type TestServer } from "../helpers/server.ts";

export { ISO_MS, UUID_V4 } from "../helpers/assertions.ts";

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export interface SetCookie {
  value: string;
  /** Attribute names lower-cased; flag attributes map to "". */
  attrs: Map<string, string>;
}

/** The `sigilum_session` Set-Cookie of a response, parsed, or null when there is none. */
export function sessionSetCookie(res: JsonResponse): SetCookie | null {
  const raw = res.headers.getSetCookie().find((c) => c.startsWith("sigilum_session="));
  if (raw === undefined) return null;
  const [pair, ...rest] = raw.split(";").map((p) => p.trim());
  const attrs = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf("=");
    if (eq === -1) attrs.set(part.toLowerCase(), "");
    else attrs.set(part.slice(0, eq).toLowerCase(), part.slice(eq + 1));
  }
  return { value: pair!.slice("sigilum_session=".length), attrs };
}

/** A client with no Origin header on unsafe calls, holding the given session cookie. */
export function bareClient(t: TestServer, cookie: string | null = null): ApiClient {
  const client = new ApiClient(t.url, null);
  client.cookie = cookie;
  return client;
}

/** A client that authenticates only with the given session cookie value (never updates it). */
export function meWithCookie(t: TestServer, cookie: string) {
  return fetch(`${t.url}/v1/auth/me`, { headers: { cookie: `sigilum_session=${cookie}` } });
}

export function meWithBearer(t: TestServer, token: string) {
  return fetch(`${t.url}/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
}

/** Rows of a raw SQL query as plain objects (column name → value). */
export async function rows(
  t: TestServer,
  sql: string,
  args: (string | number | null)[] = [],
): Promise<Record<string, unknown>[]> {
  const rs = await t.server.ctx.database.client.execute({ sql, args });
  return rs.rows.map((row) => Object.fromEntries(rs.columns.map((c, i) => [c, row[i]])));
}

export async function count(
  t: TestServer,
  table: string,
  where = "1 = 1",
  args: (string | number | null)[] = [],
): Promise<number> {
  const [row] = await rows(t, `SELECT count(*) AS n FROM ${table} WHERE ${where}`, args);
  return Number(row?.n);
}
