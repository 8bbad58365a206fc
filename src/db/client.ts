import { mkdirSync } from "node:fs";
import { type Client, createClient } from "@libsql/client";
import { count, getTableColumns, type SQL } from "drizzle-orm";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import type { SelectResultFields } from "drizzle-orm/query-builders/select.types";
import type { SelectedFields, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Config } from "../config.ts";
import { type ApiError, notFound, serviceUnavailable } from "../http/errors.ts";
import type { Page } from "../http/pagination.ts";
import { BackgroundCheckpointer } from "./checkpoint.ts";
import { queryOf } from "./compiled.ts";
import { EmbeddedConnection, filePath } from "./embedded.ts";
import { DRIVER_BUSY_TIMEOUT_MS, LockWaitingClient } from "./lockWait.ts";
import * as schema from "./schema.ts";

/** How long a statement waits for another process's lock unless SIGILUM_DATABASE_BUSY_TIMEOUT says. */
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

export type Db = LibSQLDatabase<typeof schema>;

/** Where the database reports trouble that no request sees (a logger's warn). */
export type Warn = (msg: string, fields: Record<string, unknown>) => void;

export interface OpenOptions {
  warn?: Warn;
  /** Copy the WAL back off the event loop (checkpoint.ts); off only where a test counts WAL bytes. */
  backgroundCheckpoints?: boolean;
}

export interface Database {
  client: Client;
  db: Db;
  close(): void;
}

/**
 * Opens the configured database. Embedded files get WAL and foreign keys, and waits for another
 * process's lock happen on timers, never in SQLite's busy handler (see LockWaitingClient).
 */
export async function openDatabase(
  config: Pick<Config, "databaseUrl" | "databaseAuthToken" | "dataDir" | "embedded"> &
    Partial<Pick<Config, "databaseBusyTimeout">>,
  options: OpenOptions = {},
): Promise<Database> {
  if (config.embedded) mkdirSync(config.dataDir, { recursive: true });
  if (!config.embedded) {
    // No foreign_keys pragma: sqld does not bind a session to one connection, so it could not be
    // relied on; deletions never depend on cascades (src/db/erasure.ts).
    const client = createClient({
      url: config.databaseUrl,
      authToken: config.databaseAuthToken || undefined,
      timeout: 5000,
    } as Parameters<typeof createClient>[0]);
    return { client, db: drizzle(client, { schema }), close: () => client.close() };
  }
  // An embedded database gets ONE connection: writes are group commits of synchronous batches (see
  // writeBatch), so a pool buys nothing, and per-connection pragmas then hold for every statement.
  // The driver's busy timeout is tiny; lock waits happen in LockWaitingClient. The WAL is copied
  // back into the database file off the event loop (checkpoint.ts).
  let checkpointer: BackgroundCheckpointer | undefined;
  const client = new LockWaitingClient(
    () => new EmbeddedConnection(config.databaseUrl, DRIVER_BUSY_TIMEOUT_MS),
    config.databaseBusyTimeout ?? DEFAULT_BUSY_TIMEOUT_MS,
    () => checkpointer?.noteCommit(),
  );
  if (options.backgroundCheckpoints !== false) {
    checkpointer = new BackgroundCheckpointer(
      filePath(config.databaseUrl),
      (op) => client.betweenWrites(op),
      (err) =>
        options.warn?.("background WAL checkpoint failed; SQLite checkpoints in commits instead", {
          error: String((err as Error)?.message ?? err),
        }),
    );
  }
  await client.ready;
  await client.execute("PRAGMA journal_mode=WAL");
  const close = () => {
    checkpointer?.close();
    client.close();
  };
  return { client, db: drizzle(client, { schema }), close };
}

/** A statement for writeBatch: a drizzle query builder, or raw SQL built with column objects. */
export type BatchStatement = { toSQL(): { sql: string; params: unknown[] } } | SQL;

/**
 * Runs statements atomically in one write transaction. A batch executes synchronously inside the
 * driver, so no other request of this process can interleave with it (interactive transactions
 * held across awaits would block the event loop on SQLite's lock). Not `db.batch()`: drizzle's
 * batch opens a deferred transaction, and writes must take the lock up front (mode "write").
 * On an embedded database, batches issued together share one commit (a group commit; each batch
 * in its own savepoint, so one batch's failure undoes only that batch — lockWait.ts).
 */
export async function writeBatch(database: Database, statements: BatchStatement[]) {
  const stmts = statements.map((s) => {
    const q = queryOf(s);
    return { sql: q.sql, args: q.params as never[] };
  });
  return database.client.batch(stmts, "write");
}

const UNAVAILABLE =
  /SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL)|CLIENT_CLOSED|ECONNREFUSED|ECONNRESET|fetch failed|SERVER_ERROR|HRANA_WEBSOCKET|database is locked/;

/** The error and its causes (drizzle wraps driver errors), as "code message" strings. */
function errorChain(err: unknown): string[] {
  const out: string[] = [];
  for (
    let e = err as { code?: string; message?: string; cause?: unknown } | undefined;
    e && out.length < 5;
    e = e.cause as typeof e
  ) {
    out.push(`${e.code ?? ""} ${e.message ?? ""}`);
  }
  return out;
}

/** Maps storage outages to 503 SERVICE_UNAVAILABLE (the driver's error as its cause); other errors stay as they are. */
export function storageError(err: unknown): ApiError | null {
  if (!errorChain(err).some((text) => UNAVAILABLE.test(text))) return null;
  return serviceUnavailable("Storage is temporarily unavailable; retry shortly", err);
}

const CAUSE_LIMIT = 300;

/**
 * What broke, for the log: the driver's error name, code and message. drizzle's wrapper is
 * skipped, since its message carries the SQL and every parameter (tokens, emails, secrets).
 */
export function storageCause(err: unknown): string {
  type Link = { name?: string; code?: string; message?: string; cause?: unknown };
  const links: Link[] = [];
  for (let e = err as Link | undefined; e && links.length < 5; e = e.cause as Link | undefined) {
    if (typeof e === "object") links.push(e);
  }
  const safe = links.filter((e) => !/^Failed query/.test(e.message ?? ""));
  const link =
    safe.find((e) => UNAVAILABLE.test(`${e.code ?? ""} ${e.message ?? ""}`)) ?? safe.at(-1);
  if (!link) return "unknown";
  const text = [link.name, link.code].filter(Boolean).join(" ");
  return `${text}: ${link.message ?? ""}`.slice(0, CAUSE_LIMIT);
}

/** True for a UNIQUE violation, optionally on one column (`"services.slug"`). */
export function isUniqueViolation(err: unknown, column?: string): boolean {
  const text = errorChain(err).join(" ");
  return /UNIQUE constraint failed/i.test(text) && (column === undefined || text.includes(column));
}

/** True when a row names a parent (owner, service) that no longer exists. */
export function isForeignKeyViolation(err: unknown): boolean {
  return /FOREIGN KEY constraint failed/i.test(errorChain(err).join(" "));
}

/** `SELECT count(*) FROM table WHERE …` — the one way lists compute their totals. */
export async function countRows(
  database: Database,
  table: SQLiteTable,
  where: SQL | undefined,
): Promise<number> {
  const [row] = await database.db.select({ n: count() }).from(table).where(where);
  return row?.n ?? 0;
}

/**
 * One page of a list and its total — `SELECT columns FROM table WHERE … ORDER BY … LIMIT … OFFSET …`
 * plus `SELECT count(*) FROM table WHERE …` — the one way list routes read their rows.
 */
export async function pagedRows<
  T extends SQLiteTable,
  C extends SelectedFields = T["_"]["columns"],
>(
  database: Database,
  table: T,
  query: { where: SQL | undefined; orderBy: SQL[]; page: Page; columns?: C },
): Promise<NoInfer<{ rows: SelectResultFields<C>[]; total: number }>> {
  const columns = query.columns ?? (getTableColumns(table) as SelectedFields);
  const [rows, total] = await Promise.all([
    database.db
      .select(columns)
      .from(table as SQLiteTable)
      .where(query.where)
      .orderBy(...query.orderBy)
      .limit(query.page.limit)
      .offset(query.page.offset),
    countRows(database, table, query.where),
  ]);
  return { rows: rows as SelectResultFields<C>[], total };
}

/**
 * `SELECT columns FROM table WHERE … LIMIT 1`, or 404 `${what} not found`. The condition scopes the
 * row to its owner, so someone else's id reads as missing, never as forbidden.
 */
export async function findOr404<
  T extends SQLiteTable,
  C extends SelectedFields = T["_"]["columns"],
>(
  database: Database,
  table: T,
  where: SQL | undefined,
  what: string,
  columns?: C,
): Promise<NoInfer<SelectResultFields<C>>> {
  const [row] = await database.db
    .select(columns ?? (getTableColumns(table) as SelectedFields))
    .from(table as SQLiteTable)
    .where(where)
    .limit(1);
  if (!row) throw notFound(what);
  return row as SelectResultFields<C>;
}
