import { fillPlaceholders, is, SQL } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { AppContext } from "../context.ts";
import type { BatchStatement } from "../db/client.ts";

const dialect = new SQLiteAsyncDialect();

type Db = AppContext["database"]["db"];
type Buildable = { toSQL(): { sql: string; params: unknown[] } } | SQL;

/**
 * A statement built by drizzle once, with `sql.placeholder(name)` where values go, then only
 * filled per use. The delivery path writes the same few statements thousands of times a second;
 * building each with drizzle every time cost more CPU than running it. Names and encodings still
 * come from the schema (literal values in the builder are encoded once, placeholders are bound
 * as given, so pass them in their column's driver form).
 */
export function template(build: (db: Db) => Buildable) {
  let built: { sql: string; params: unknown[] } | undefined;
  return (ctx: AppContext, values: Record<string, unknown>): BatchStatement => {
    if (!built) {
      const query = build(ctx.database.db);
      built = is(query, SQL) ? dialect.sqlToQuery(query) : query.toSQL();
    }
    const { sql } = built;
    const params = fillPlaceholders(built.params, values);
    return { toSQL: () => ({ sql, params }) };
  };
}
