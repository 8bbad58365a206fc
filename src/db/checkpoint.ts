import AsyncDatabase from "libsql/promise";

/**
 * How long after a commit the next checkpoint starts. Short, so the WAL stays small, and not zero,
 * so one checkpoint copies the pages of many commits.
 */
const CHECKPOINT_DELAY_MS = 50;

/**
 * A WAL this long (pages; ~16 MB) is copied once more with writes held, so that it can start over.
 * Below the main connection's wal_autocheckpoint (10 000, lockWait.ts), the backstop.
 */
const RESTART_PAGES = 4000;

/** Runs an operation while no write is in progress (LockWaitingClient.betweenWrites). */
export type BetweenWrites = <T>(op: () => Promise<T>) => Promise<T>;

type Report = (err: unknown) => void;

/**
 * Copies the WAL back into the database file on one of the driver's own threads, off the event
 * loop. SQLite otherwise checkpoints inside the commit that crosses `wal_autocheckpoint` — on the
 * event loop, 60–90 ms every few seconds under load (bench/RESULTS.md, issue 11).
 *
 * It uses a second connection of the same `libsql` library (its async API runs statements on the
 * driver's thread pool; a second copy of SQLite in the process would break POSIX file locks) and
 * only PASSIVE checkpoints, which never wait for a writer or a reader. Each round copies what the
 * WAL holds while writes go on. A WAL starts over from the beginning only when a write finds it
 * wholly copied, which under steady writes never happens, so once it reaches RESTART_PAGES a
 * round also copies the few pages committed meanwhile with writes held (`betweenWrites`): the file
 * stays bounded. Durability is unchanged — a commit is in the WAL before it is answered either
 * way. The main connection keeps `wal_autocheckpoint` as a backstop: should this fall behind or
 * fail, SQLite checkpoints in a commit as before.
 */
export class BackgroundCheckpointer {
  private conn: AsyncDatabase | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private dirty = false;
  private closed = false;
  private reported = false;

  constructor(
    private path: string,
    private betweenWrites: BetweenWrites,
    private report: Report,
    private delayMs = CHECKPOINT_DELAY_MS,
    private restartPages = RESTART_PAGES,
  ) {}

  /** A write committed: a checkpoint follows shortly (one at a time; writes meanwhile queue one more). */
  noteCommit(): void {
    this.dirty = true;
    if (this.closed || this.running || this.timer) return;
    this.timer = setTimeout(() => this.start(), this.delayMs);
    this.timer.unref?.();
  }

  private start(): void {
    this.timer = null;
    this.dirty = false;
    this.running = this.round().finally(() => {
      this.running = null;
      if (this.dirty) this.noteCommit();
    });
  }

  private async round(): Promise<void> {
    try {
      this.conn ??= new AsyncDatabase(this.path, {});
      const conn = this.conn;
      const walPages = await checkpoint(conn);
      if (walPages >= this.restartPages) await this.betweenWrites(() => checkpoint(conn));
    } catch (err) {
      // The backstop (wal_autocheckpoint) still holds; say so once, not every round.
      if (!this.reported) this.report(err);
      this.reported = true;
    }
  }

  /** Stops scheduling; the connection closes once a round in progress has finished. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const closeConn = () => {
      this.conn?.close();
      this.conn = null;
    };
    if (this.running) void this.running.then(closeConn);
    else closeConn();
  }
}

/** One PASSIVE checkpoint; resolves to the WAL's length in pages. */
async function checkpoint(conn: AsyncDatabase): Promise<number> {
  const stmt = await conn.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  const [row] = (await stmt.all()) as { log?: number }[];
  return Number(row?.log ?? 0);
}
