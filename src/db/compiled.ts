import { is, Param, Placeholder, SQL, sql } from "drizzle-orm";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import type { Database, Db } from "./client.ts";

/**
 * Statements on hot paths, built by drizzle ONCE with named placeholders and bound per use.
 * Building a query (drizzle's builders, `sql` templates, `toSQL()`) cost ~40 % of a claim's CPU
 * (bench/RESULTS.md, issue 11); a compiled statement costs a parameter array. The SQL text is the
 * same every time, so the embedded connection's prepared-statement cache always hits.
 *
 * A placeholder in a column's place keeps that column's encoder (booleans, JSON), as drizzle's own
 * prepared queries do; a bare one in a `sql` template binds the value as it is.
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

/** `p("name")` in the builder marks a parameter bound by name later. */
export type Bind<K extends string> = (name: K) => Placeholder<K>;

type Slot<K extends string> =
  | { name: K; encode?: (value: unknown) => unknown; value?: undefined }
  | { name?: undefined; encode?: undefined; value: unknown };

/** The SQL text and where each parameter comes from (a named value, or a constant). */
function build<K extends string>(builder: Builder): { text: string; slots: Slot<K>[] } {
  const query = is(builder, SQL)
    ? dialect.sqlToQuery(builder)
    : "toSQL" in builder
      ? builder.toSQL()
      : dialect.sqlToQuery(builder.getSQL());
  const slots = query.params.map((param): Slot<K> => {
    if (is(param, Placeholder)) return { name: (param as Placeholder<K>).name as K };
    // A placeholder drizzle placed for a column keeps that column's encoder (booleans, JSON).
    if (is(param, Param) && is(param.value, Placeholder)) {
      const encoder = param.encoder as { mapToDriverValue(v: unknown): unknown } | undefined;
      return {
        name: (param.value as Placeholder<K>).name as K,
        encode: encoder ? (v) => encoder.mapToDriverValue(v) : undefined,
      };
    }
    return { value: param };
  });
  return { text: query.sql, slots };
}

/** Built on first use, so start-up does not pay for statements a run may never need. */
export function compile<K extends string>(builder: (p: Bind<K>) => Builder): Compiled<K> {
  let built: { text: string; slots: Slot<K>[] } | undefined;
  const get = () => {
    built ??= build<K>(builder((name) => sql.placeholder(name)));
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
        return slot.encode && value !== null ? slot.encode(value) : value;
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
