import { getTableColumns, is, SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import { type Compiled, compile } from "./compiled.ts";

/**
 * True only when the statement just before this one in the same batch changed exactly one row
 * (SQLite `changes()`). It ties a write to the guarded write placed right before it, so the batch's
 * order is part of the logic: a history row, an event or a counter follows only a change that won.
 */
export function onlyIfPreviousChanged(): SQL {
  return sql`changes() = 1`;
}

type RowOf<T extends SQLiteTable> = { [K in keyof T["$inferInsert"]]?: T["$inferInsert"][K] | SQL };

/**
 * `INSERT INTO table (columns) SELECT values WHERE condition`: one row, written only if the
 * condition holds when the statement runs (a limit, a guard on the previous statement). drizzle's
 * insert builder has no conditional single-row form; the names and encodings come from the schema.
 */
export function insertWhere<T extends SQLiteTable>(table: T, row: RowOf<T>, condition?: SQL): SQL {
  const columns = getTableColumns(table);
  const entries = Object.entries(row as Record<string, unknown>).filter(
    ([, value]) => value !== undefined,
  );
  const names = entries.map(([key]) => sql.identifier(columns[key]!.name));
  const values = entries.map(([key, value]) =>
    is(value, SQL) ? value : sql.param(value, columns[key]),
  );
  const where = condition ? sql` WHERE ${condition}` : sql``;
  return sql`INSERT INTO ${table} (${sql.join(names, sql`, `)}) SELECT ${sql.join(values, sql`, `)}${where}`;
}

/**
 * A compiled one-row insert whose values are named parameters (`{ column: "param" }`), in both
 * forms: unconditional, and only if the statement before it changed a row (`onlyIfPreviousChanged`).
 * Pick one per use: `insert(onlyIfChanged).bind({ param: value, … })`.
 */
export function compiledRowInsert<T extends SQLiteTable, K extends string>(
  table: T,
  params: { [C in keyof T["$inferInsert"]]?: K },
): (onlyIfChanged: boolean) => Compiled<K> {
  const form = (guarded: boolean) =>
    compile<K>((p) => {
      const row = Object.fromEntries(
        Object.entries(params).map(([column, name]) => [column, p(name as K)]),
      );
      return insertWhere(table, row as RowOf<T>, guarded ? onlyIfPreviousChanged() : undefined);
    });
  const guarded = form(true);
  const always = form(false);
  return (onlyIfChanged) => (onlyIfChanged ? guarded : always);
}
