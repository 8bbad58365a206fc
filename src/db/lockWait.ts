import type {
  Client,
  InArgs,
  InStatement,
  Replicated,
  ResultSet,
  Transaction,
  TransactionMode,
} from "@libsql/client";

/**
 * SQLite's own busy handler, kept to a few ms: it sleeps inside the driver call, and the embedded
 * driver runs on the event loop, so a long one would stall every request while another process
 * holds the lock. Longer waits happen on timers in `LockWaitingClient`.
 */
export const DRIVER_BUSY_TIMEOUT_MS = 2;

// Per connection, so they are applied to every connection opened (journal_mode is in the file).
const CONNECTION_PRAGMAS =
  "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;";

// Delays between attempts on a locked database; the last one repeats until the limit.
const BACKOFF_MS = [2, 5, 10, 25, 50, 100];

const READ_ONLY = /^\s*(select|explain)\b/i;

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

function sqlOf(stmt: InStatement): string {
  return typeof stmt === "string" ? stmt : stmt.sql;
}

function lockTimeout(): Error {
  return Object.assign(new Error("SQLITE_BUSY: database is locked"), { code: "SQLITE_BUSY" });
}

interface Connection {
  client: Client;
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
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private connect: () => Client,
    readonly limitMs: number,
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

  private async onConnection<T>(op: (client: Client) => Promise<T>): Promise<T> {
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
  private async retryWhileBusy<T>(op: (client: Client) => Promise<T>, deadline: number) {
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

  private run<T>(write: boolean, op: (client: Client) => Promise<T>): Promise<T> {
    const deadline = performance.now() + this.limitMs;
    if (!write) return this.retryWhileBusy(op, deadline);
    const turn = this.writes.then(() => {
      // Waited its whole limit behind another write: the lock is still held, so fail untried.
      if (this.limitMs > 0 && performance.now() >= deadline) throw lockTimeout();
      return this.retryWhileBusy(op, deadline);
    });
    this.writes = turn.catch(() => undefined);
    return turn;
  }

  execute(stmt: InStatement): Promise<ResultSet>;
  execute(sql: string, args?: InArgs): Promise<ResultSet>;
  execute(stmt: InStatement, args?: InArgs): Promise<ResultSet> {
    const write = !READ_ONLY.test(sqlOf(stmt));
    return this.run(write, (client) =>
      typeof stmt === "string" ? client.execute(stmt, args) : client.execute(stmt),
    );
  }

  batch(
    stmts: Array<InStatement | [string, InArgs?]>,
    mode?: TransactionMode,
  ): Promise<Array<ResultSet>> {
    return this.run(mode !== "read", (client) => client.batch(stmts, mode));
  }

  migrate(stmts: Array<InStatement>): Promise<Array<ResultSet>> {
    return this.run(true, (client) => client.migrate(stmts));
  }

  /** Not used by the appliance (an interactive transaction would hold the lock across awaits). */
  transaction(mode?: TransactionMode): Promise<Transaction> {
    return this.conn.client.transaction(mode);
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
