import type {
  Client,
  InArgs,
  InStatement,
  Replicated,
  ResultSet,
  Transaction,
  TransactionMode,
} from "@libsql/client";
import type { EmbeddedConnection, UnitOutcome, WriteUnit } from "./embedded.ts";

/**
 * SQLite's own busy handler, kept to a few ms: it sleeps inside the driver call, and the embedded
 * driver runs on the event loop, so a long one would stall every request while another process
 * holds the lock. Longer waits happen on timers in `LockWaitingClient`.
 */
export const DRIVER_BUSY_TIMEOUT_MS = 2;

// Per connection, so they are applied to every connection opened (journal_mode is in the file).
// SQLite's own checkpoint (copying the WAL back, with an fsync) is only the backstop, at 10 000
// pages (~40 MB) rather than its default 1 000: it runs inside a commit, on the event loop. The
// WAL is normally copied back off the event loop by the background checkpointer (checkpoint.ts).
// Durability is the same: a commit is in the WAL either way.
const CONNECTION_PRAGMAS =
  "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=10000;";

// Delays between attempts on a locked database; the last one repeats until the limit.
const BACKOFF_MS = [2, 5, 10, 25, 50, 100];

const READ_ONLY = /^\s*(select|explain)\b/i;
/** Statements a group commit may hold (not PRAGMA, VACUUM, BEGIN … which must run alone). */
const GROUPABLE = /^\s*(insert|update|delete|replace|with)\b/i;

/** Units waiting for the next group commit, and how to answer each. */
interface Pending {
  units: WriteUnit[];
  settle: ((outcome: UnitOutcome) => void)[];
  fail: ((err: unknown) => void)[];
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

function sqlOf(stmt: InStatement): string {
  return typeof stmt === "string" ? stmt : stmt.sql;
}

/** Resolves after the event loop's pending I/O callbacks (requests arriving together) have run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function lockTimeout(): Error {
  return Object.assign(new Error("SQLITE_BUSY: database is locked"), { code: "SQLITE_BUSY" });
}

interface Connection {
  client: EmbeddedConnection;
  /** Settles once the per-connection pragmas are set. */
  ready: Promise<void>;
  inFlight: number;
  retired: boolean;
}

/**
 * The embedded client, with lock waits moved off the event loop: a statement or batch that finds
 * the database locked by another process is retried after a timer (backoff) until `limitMs` has
 * passed since it was issued, then fails with SQLITE_BUSY (→ 503 with Retry-After). Writes go one
 * at a time in issue order, so while one waits the rest queue behind it rather than each probing
 * the lock; reads never queue (in WAL mode they do not wait for a writer).
 *
 * A statement that failed busy is left in progress by the libsql binding (libsql-client-ts#352):
 * it keeps the connection's read snapshot, so every later write there fails with
 * SQLITE_BUSY_SNAPSHOT and nothing it writes commits. The connection is therefore replaced after
 * each busy failure, and the old one closed once the calls already on it have returned.
 */
export class LockWaitingClient implements Client {
  private conn: Connection;
  private closedForGood = false;
  private pending: Pending | null = null;
  private writes: Promise<unknown> = Promise.resolve();

  /** `afterWrite`: told after each write that committed (the background checkpointer). */
  constructor(
    private connect: () => EmbeddedConnection,
    readonly limitMs: number,
    private afterWrite: () => void = () => undefined,
  ) {
    this.conn = this.open();
  }

  private open(): Connection {
    const client = this.connect();
    // Called before anyone else can use the client: its single connection is taken right here,
    // so every other call waits until the pragmas are set.
    const ready = client.executeMultiple(CONNECTION_PRAGMAS);
    ready.catch(() => undefined); // a replacement's failure shows in the calls made on it
    return { client, ready, inFlight: 0, retired: false };
  }

  /** The first connection's pragmas (openDatabase waits, so a failure stops start-up). */
  get ready(): Promise<void> {
    return this.conn.ready;
  }

  private replaceConnection(): void {
    const old = this.conn;
    this.conn = this.open();
    old.retired = true;
    if (old.inFlight === 0) old.client.close();
  }

  private async onConnection<T>(op: (client: EmbeddedConnection) => Promise<T>): Promise<T> {
    const conn = this.conn;
    conn.inFlight++;
    try {
      return await op(conn.client);
    } catch (err) {
      if (isBusy(err) && conn === this.conn && !this.closedForGood) this.replaceConnection();
      throw err;
    } finally {
      conn.inFlight--;
      if (conn.retired && conn.inFlight === 0) conn.client.close();
    }
  }

  /** Runs `op` until it does not find the database locked, waiting on timers, until `deadline`. */
  private async retryWhileBusy<T>(
    op: (client: EmbeddedConnection) => Promise<T>,
    deadline: number,
  ) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.onConnection(op);
      } catch (err) {
        const left = deadline - performance.now();
        if (!isBusy(err) || left <= 0) throw err;
        const backoff = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!;
        await new Promise((resolve) => setTimeout(resolve, Math.min(backoff, left)));
      }
    }
  }

  private run<T>(
    write: boolean,
    op: (client: EmbeddedConnection) => Promise<T>,
    gather = false,
  ): Promise<T> {
    const deadline = performance.now() + this.limitMs;
    if (!write) return this.retryWhileBusy(op, deadline);
    const before = gather ? this.writes.then(nextTurn) : this.writes;
    const turn = before.then(() => {
      // Waited its whole limit behind another write: the lock is still held, so fail untried.
      if (this.limitMs > 0 && performance.now() >= deadline) throw lockTimeout();
      return this.retryWhileBusy(op, deadline);
    });
    this.writes = turn.then(() => this.afterWrite()).catch(() => undefined);
    return turn;
  }

  /**
   * Runs `op` (which does not use this connection) when no write is in progress, holding the
   * writes that come meanwhile until it settles: the checkpointer's catch-up (checkpoint.ts).
   */
  betweenWrites<T>(op: () => Promise<T>): Promise<T> {
    const turn = this.writes.then(op);
    this.writes = turn.catch(() => undefined);
    return turn;
  }

  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  execute(stmt: InStatement, args?: InArgs): Promise<ResultSet> {
    const full: InStatement = typeof stmt === "string" ? { sql: stmt, args: args ?? [] } : stmt;
    const text = sqlOf(full);
    if (READ_ONLY.test(text)) return this.run(false, (client) => client.execute(full));
    if (GROUPABLE.test(text)) return this.inGroup([full]).then((results) => results[0]!);
    return this.run(true, (client) => client.execute(full));
  }

  /** A write batch joins the next group commit (atomic on its own, one commit with the others). */
  batch(
    stmts: Array<InStatement | [string, InArgs?]>,
    mode?: TransactionMode,
  ): Promise<Array<ResultSet>> {
    const unit = stmts.map(
      (s): InStatement => (Array.isArray(s) ? { sql: s[0], args: s[1] ?? [] } : s),
    );
    if (mode === "write") return this.inGroup(unit);
    return this.run(mode !== "read", (client) => client.batch(unit, mode));
  }

  /**
   * Queues `unit` for the next group commit. A group closes when its turn to write comes (after
   * the write before it, and at least one turn of the event loop, so requests arriving together
   * share it) and is written as one transaction, each unit in its own savepoint (embedded.ts).
   * While a group waits for another process's lock, new units gather in the next one.
   */
  private inGroup(unit: WriteUnit): Promise<ResultSet[]> {
    return new Promise((resolve, reject) => {
      const settle = (outcome: UnitOutcome) =>
        outcome.ok ? resolve(outcome.results) : reject(outcome.error);
      if (this.pending) {
        this.pending.units.push(unit);
        this.pending.settle.push(settle);
        this.pending.fail.push(reject);
        return;
      }
      const group: Pending = { units: [unit], settle: [settle], fail: [reject] };
      this.pending = group;
      const written = this.run(
        true,
        async (client) => {
          if (this.pending === group) this.pending = null;
          return client.writeGroup(group.units);
        },
        true,
      );
      written.then(
        (outcomes) => {
          for (const [i, outcome] of outcomes.entries()) group.settle[i]!(outcome);
        },
        (err) => {
          if (this.pending === group) this.pending = null;
          for (const f of group.fail) f(err);
        },
      );
    });
  }

  migrate(stmts: Array<InStatement>): Promise<Array<ResultSet>> {
    return this.run(true, (client) => client.migrate(stmts));
  }

  /** Not used by the appliance (an interactive transaction would hold the lock across awaits). */
  transaction(): Promise<Transaction> {
    return this.conn.client.transaction();
  }

  executeMultiple(sql: string): Promise<void> {
    return this.run(true, (client) => client.executeMultiple(sql));
  }

  sync(): Promise<Replicated> {
    return this.conn.client.sync();
  }

  close(): void {
    this.closedForGood = true;
    this.conn.client.close();
  }

  reconnect(): void {
    this.replaceConnection();
  }

  get closed(): boolean {
    return this.conn.client.closed;
  }

  get protocol(): string {
    return this.conn.client.protocol;
  }
}
