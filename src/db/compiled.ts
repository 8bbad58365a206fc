import { is, Placeholder, SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Database, Db } from "./client.ts";

/**
 * Statements on hot paths, built by drizzle ONCE with named placeholders and bound per use.
 * Building the claim path's queries per request (drizzle's builders, `sql` templates, `toSQL()`)
 * cost about a fifth of a claim's CPU (bench/RESULTS.md, issue 11); a compiled statement costs a
 * parameter array. The SQL text is the same every time, so the embedded connection's
 * prepared-statement cache always hits.
 */

const dialect = new SQLiteAsyncDialect();

/** A bound statement: what writeBatch and the client take. */
export interface Bound {
  sql: string;
  params: unknown[];
  toSQL(): { sql: string; params: unknown[] };
}

export interface Compiled<K extends string> {
  readonly sql: string;
  bind(values: Record<K, unknown>): Bound;
}

type Builder = SQL | { toSQL(): { sql: string; params: unknown[] } } | { getSQL(): SQL };

/**
 * `p("name")` in the builder marks a parameter bound by name later. It is an `SQL` fragment, so it
 * goes wherever drizzle takes a value (insert values, update sets, conditions); the value is bound
 * as given — pass it in its column's stored form (booleans are stored 0/1 by the drivers).
 */
export type Bind<K extends string> = (name: K) => SQL;

type Slot<K extends string> = { name: K; value?: undefined } | { name?: undefined; value: unknown };

/** A drizzle query builder or raw `sql` rendered to its text and parameters (drizzle's dialect). */
export function queryOf(builder: Builder): { sql: string; params: unknown[] } {
  if (is(builder, SQL)) return dialect.sqlToQuery(builder);
  return "toSQL" in builder ? builder.toSQL() : dialect.sqlToQuery(builder.getSQL());
}

/** The SQL text and where each parameter comes from (a named value, or a constant). */
function build<K extends string>(builder: Builder): { text: string; slots: Slot<K>[] } {
  const query = queryOf(builder);
  const slots = query.params.map(
    (param): Slot<K> =>
      is(param, Placeholder) ? { name: (param as Placeholder<K>).name as K } : { value: param },
  );
  return { text: query.sql, slots };
}

/** Built on first use, so start-up does not pay for statements a run may never need. */
export function compile<K extends string>(builder: (p: Bind<K>) => Builder): Compiled<K> {
  let built: { text: string; slots: Slot<K>[] } | undefined;
  const get = () => {
    built ??= build<K>(builder((name) => sql`${sql.placeholder(name)}`));
    return built;
  };
  return {
    get sql() {
      return get().text;
    },
    bind(values) {
      const { text, slots } = get();
      const params = slots.map((slot) => {
        if (slot.name === undefined) return slot.value;
        const value = values[slot.name];
        if (value === undefined) throw new Error(`No value for placeholder "${slot.name}"`);
        return value;
      });
      return { sql: text, params, toSQL: () => ({ sql: text, params }) };
    },
  };
}

/** Runs a bound read and returns its rows by column name (no drizzle mapping on the way back). */
export async function readRows<T>(database: Database, bound: Bound): Promise<T[]> {
  const rs = await database.client.execute({ sql: bound.sql, args: bound.params as never[] });
  return rs.rows as unknown as T[];
}

/** `compile`, on first use, for statements drizzle builds from a `db` (inserts, updates). */
export function compileWithDb<K extends string>(
  build: (p: Bind<K>, db: Db) => Builder,
): (db: Db) => Compiled<K> {
  let compiled: Compiled<K> | undefined;
  return (db) => {
    compiled ??= compile<K>((p) => build(p, db));
    return compiled;
  };
}
