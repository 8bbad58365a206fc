import { Buffer } from "node:buffer";
import {
  type Client,
  type InArgs,
  type InStatement,
  LibsqlError,
  type Replicated,
  type ResultSet,
  type Transaction,
  type TransactionMode,
} from "@libsql/client";
import Database from "libsql";

/**
 * The embedded database's connection: `libsql` (the engine under `@libsql/client`'s `file:` URLs)
 * with what that client lacks for a busy server — prepared statements kept per SQL text (the client
 * prepares every statement again and reads its column metadata twice: 16 % of a claim's CPU,
 * bench/RESULTS.md) and group commits (`writeGroup`). Results have the client's shape (ResultSet,
 * rows readable by column name and by index), so drizzle and every caller read them unchanged.
 * Remote databases (libSQL server, Turso) keep `@libsql/client`.
 */

type Statement = Database.Statement;

/** One caller's write: its statements commit together or not at all. */
export type WriteUnit = InStatement[];

/** Per unit of a group: its statements' results, or the error that undid it (and only it). */
export type UnitOutcome = { ok: true; results: ResultSet[] } | { ok: false; error: unknown };

const STATEMENT_CACHE = 64;

const VALUES = Symbol("values");

interface Prepared {
  stmt: Statement;
  /** Column names of a statement that returns rows; null for one that does not. */
  columns: string[] | null;
  /** The prototype of its rows: indexed access and `length` over the raw values. */
  rowProto: object | null;
  /** For each column, its name if it is the first column of that name (named access), else null. */
  named: (string | null)[];
}

/** Rows read like `@libsql/client`'s: `row.name` (enumerable) and `row[i]`, `row.length`. */
function rowPrototype(width: number): object {
  const proto: PropertyDescriptorMap = {
    length: { get: () => width, enumerable: false },
  };
  for (let i = 0; i < width; i++) {
    proto[i] = {
      get(this: { [VALUES]: unknown[] }) {
        return this[VALUES][i];
      },
      enumerable: false,
    };
  }
  return Object.create(Object.prototype, proto);
}

function valueToSql(value: unknown): unknown {
  if (typeof value === "number") {
    if (!Number.isFinite(value))
      throw new RangeError("Only finite numbers (not Infinity or NaN) can be passed as arguments");
    return value;
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value === undefined)
    throw new TypeError("undefined cannot be passed as argument to the database");
  if (value instanceof Date) return value.valueOf();
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return value;
}

function valueFromSql(value: unknown): unknown {
  if (value instanceof Buffer)
    return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  return value;
}

function argsOf(stmt: InStatement): unknown[] | Record<string, unknown> {
  if (typeof stmt === "string" || stmt.args === undefined) return [];
  if (Array.isArray(stmt.args)) return stmt.args.map(valueToSql);
  const named: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(stmt.args)) {
    const bare = name[0] === "@" || name[0] === "$" || name[0] === ":" ? name.slice(1) : name;
    named[bare] = valueToSql(value);
  }
  return named;
}

/** The driver's error as `@libsql/client` reports it: `code` is the base code (SQLITE_BUSY …). */
function libsqlError(err: unknown): unknown {
  if (!(err instanceof Error) || err instanceof LibsqlError) return err;
  const { code, rawCode } = err as Error & { code?: unknown; rawCode?: unknown };
  if (typeof code !== "string") return err;
  const raw = typeof rawCode === "number" ? rawCode : undefined;
  const base = raw === undefined ? code : baseCode(raw, code);
  return new LibsqlError(err.message, base, code, raw, err);
}

const BASE_CODES: Record<number, string> = {
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  10: "SQLITE_IOERR",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  19: "SQLITE_CONSTRAINT",
};

function baseCode(rawCode: number, extended: string): string {
  return BASE_CODES[rawCode & 0xff] ?? extended.replace(/^(SQLITE_[A-Z]+)_.*/, "$1");
}

class Result implements ResultSet {
  constructor(
    readonly columns: string[],
    readonly columnTypes: string[],
    readonly rows: ResultSet["rows"],
    readonly rowsAffected: number,
    readonly lastInsertRowid: bigint | undefined,
  ) {}

  toJSON() {
    return {
      columns: this.columns,
      columnTypes: this.columnTypes,
      rows: this.rows.map((row) => Array.prototype.slice.call(row)),
      rowsAffected: this.rowsAffected,
      lastInsertRowid: this.lastInsertRowid?.toString() ?? null,
    };
  }
}

const NO_COLUMNS: string[] = [];

/** `file:/abs/path.db`, `file:rel.db`, `file:///abs/path.db` → the path `libsql` opens. */
export function filePath(url: string): string {
  let rest = url.replace(/^file:/, "");
  const query = rest.indexOf("?");
  if (query >= 0) rest = rest.slice(0, query);
  if (rest.startsWith("//")) rest = rest.replace(/^\/\/(localhost)?/, "");
  return decodeURIComponent(rest);
}

export class EmbeddedConnection implements Client {
  private db: Database.Database;
  private cache = new Map<string, Prepared>();
  closed = false;
  readonly protocol = "file";

  /** `timeoutMs`: SQLite's own busy timeout (kept tiny; lock waits happen on timers, lockWait.ts). */
  constructor(url: string, timeoutMs: number) {
    this.db = new Database(filePath(url), { timeout: timeoutMs });
  }

  private prepared(sql: string): Prepared {
    const hit = this.cache.get(sql);
    if (hit) return hit;
    const stmt = this.db.prepare(sql);
    const reader = stmt.reader;
    let columns: string[] | null = null;
    const named: (string | null)[] = [];
    if (reader) {
      stmt.raw(true);
      const names = stmt.columns().map((c) => c.name);
      columns = names;
      const seen = new Set<string>();
      for (const name of names) {
        named.push(seen.has(name) ? null : name);
        seen.add(name);
      }
    }
    const entry: Prepared = {
      stmt,
      columns,
      rowProto: columns ? rowPrototype(columns.length) : null,
      named,
    };
    if (this.cache.size >= STATEMENT_CACHE) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(sql, entry);
    return entry;
  }

  private rowOf(p: Prepared, raw: unknown[]): ResultSet["rows"][number] {
    const row = Object.create(p.rowProto) as Record<string | symbol, unknown>;
    for (let i = 0; i < raw.length; i++) raw[i] = valueFromSql(raw[i]);
    Object.defineProperty(row, VALUES, { value: raw }); // not enumerable: `{ ...row }` copies names only
    for (let i = 0; i < p.named.length; i++) {
      const name = p.named[i];
      if (name !== null && name !== undefined) row[name] = raw[i];
    }
    return row as unknown as ResultSet["rows"][number];
  }

  /** One statement, synchronously (the driver is synchronous; promises only wrap it). */
  private run(stmt: InStatement): ResultSet {
    if (this.closed) throw new LibsqlError("The client is closed", "CLIENT_CLOSED");
    const sql = typeof stmt === "string" ? stmt : stmt.sql;
    try {
      const p = this.prepared(sql);
      const args = argsOf(stmt);
      if (p.columns) {
        const rows = (p.stmt.all(args) as unknown[][]).map((raw) => this.rowOf(p, raw));
        return new Result(p.columns, NO_COLUMNS, rows, 0, undefined);
      }
      const info = p.stmt.run(args) as { changes: number; lastInsertRowid: number | bigint };
      return new Result(NO_COLUMNS, NO_COLUMNS, [], info.changes, BigInt(info.lastInsertRowid));
    } catch (err) {
      throw libsqlError(err);
    }
  }

  private exec(sql: string): void {
    try {
      this.db.exec(sql);
    } catch (err) {
      throw libsqlError(err);
    }
  }

  private rollbackQuietly(): void {
    try {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
    } catch {
      // the connection is replaced after a failure that leaves it unusable (lockWait.ts)
    }
  }

  async execute(stmt: InStatement, args?: InArgs): Promise<ResultSet> {
    return this.run(typeof stmt === "string" && args ? { sql: stmt, args } : stmt);
  }

  /** Statements in one transaction (`BEGIN IMMEDIATE` for "write": the lock is taken up front). */
  async batch(
    stmts: Array<InStatement | [string, InArgs?]>,
    mode: TransactionMode = "deferred",
  ): Promise<ResultSet[]> {
    this.exec(mode === "write" ? "BEGIN IMMEDIATE" : mode === "read" ? "BEGIN" : "BEGIN DEFERRED");
    try {
      const results = stmts.map((s) =>
        this.run(Array.isArray(s) ? { sql: s[0], args: s[1] ?? [] } : s),
      );
      this.exec("COMMIT");
      return results;
    } finally {
      this.rollbackQuietly();
    }
  }

  /**
   * A group commit: every unit in one write transaction, each in its own savepoint, so a unit that
   * fails (a constraint, a guard) is undone alone and reported to its caller while the others
   * commit. One commit — one WAL append — for all of them. A busy or I/O failure undoes the whole
   * group (thrown: the caller retries it or fails every unit).
   */
  async writeGroup(units: WriteUnit[]): Promise<UnitOutcome[]> {
    this.exec("BEGIN IMMEDIATE");
    try {
      const outcomes = units.map((unit) => this.savepoint(unit));
      this.exec("COMMIT");
      return outcomes;
    } finally {
      this.rollbackQuietly();
    }
  }

  private savepoint(unit: WriteUnit): UnitOutcome {
    // One statement is atomic on its own: a failing statement undoes only its own changes.
    if (unit.length === 1) {
      try {
        return { ok: true, results: [this.run(unit[0]!)] };
      } catch (error) {
        if (isGroupFatal(error)) throw error;
        return { ok: false, error };
      }
    }
    this.exec("SAVEPOINT unit");
    try {
      const results = unit.map((s) => this.run(s));
      this.exec("RELEASE unit");
      return { ok: true, results };
    } catch (error) {
      if (isGroupFatal(error)) throw error;
      this.exec("ROLLBACK TO unit");
      this.exec("RELEASE unit");
      return { ok: false, error };
    }
  }

  async migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    this.exec("PRAGMA foreign_keys=off");
    try {
      return await this.batch(stmts, "deferred");
    } finally {
      this.exec("PRAGMA foreign_keys=on");
    }
  }

  async executeMultiple(sql: string): Promise<void> {
    try {
      this.exec(sql);
    } finally {
      this.rollbackQuietly();
    }
  }

  /** Not used by the appliance (an interactive transaction would hold the lock across awaits). */
  transaction(): Promise<Transaction> {
    return Promise.reject(
      new LibsqlError("Interactive transactions are not supported here", "TRANSACTION_UNSUPPORTED"),
    );
  }

  async sync(): Promise<Replicated> {
    return undefined;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    try {
      this.db.close();
    } catch {
      // already unusable
    }
  }

  reconnect(): void {
    throw new LibsqlError("Reconnect through LockWaitingClient", "CLIENT_CLOSED");
  }
}

/** Failures that are the group's, not one unit's: the lock, the disk, a closed connection. */
function isGroupFatal(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === "string" &&
    /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|NOMEM|CORRUPT|NOTADB)|^CLIENT_CLOSED/.test(code)
  );
}
