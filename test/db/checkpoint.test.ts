/**
 * WAL checkpoints off the event loop (issue 11): committed pages are copied back into the database
 * file by a second connection on the driver's thread pool, and under steady writes the WAL starts
 * over instead of growing until SQLite's own checkpoint runs inside a commit.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackgroundCheckpointer } from "../../src/db/checkpoint.ts";
import { openDatabase } from "../../src/db/client.ts";
import { EmbeddedConnection } from "../../src/db/embedded.ts";
import { LockWaitingClient } from "../../src/db/lockWait.ts";

const PAGE = 4096;
const dirs: string[] = [];

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), "sigilum-ckpt-"));
  dirs.push(dir);
  return join(dir, "c.db");
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const bytes = (path: string) => statSync(path).size;

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(10)) if (check()) return true;
  return check();
}

describe("background WAL checkpoints", () => {
  test("commits reach the database file long before SQLite's own checkpoint would copy them", async () => {
    const path = tempDb();
    const database = await openDatabase({
      databaseUrl: `file:${path}`,
      databaseAuthToken: "",
      dataDir: join(path, ".."),
      embedded: true,
    });
    try {
      await database.client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
      const fileBefore = bytes(path);
      // ~400 pages: far below wal_autocheckpoint (10 000), so only the background copies them.
      for (let i = 0; i < 100; i++) {
        await database.client.batch(
          [{ sql: "INSERT INTO t (v) VALUES (randomblob(16000))", args: [] }],
          "write",
        );
      }
      expect(await until(() => bytes(path) >= fileBefore + 100 * 16000, 5000)).toBe(true);
      const rs = await database.client.execute("SELECT count(*) AS n FROM t");
      expect(Number(rs.rows[0]?.n)).toBe(100);
    } finally {
      database.close();
    }
  });

  test("under steady writes the WAL starts over at its restart length instead of growing", async () => {
    const path = tempDb();
    const restartPages = 200;
    let checkpointer: BackgroundCheckpointer | undefined;
    const client = new LockWaitingClient(
      () => new EmbeddedConnection(`file:${path}`, 2),
      5000,
      () => checkpointer?.noteCommit(),
    );
    const failures: unknown[] = [];
    checkpointer = new BackgroundCheckpointer(
      path,
      (op) => client.betweenWrites(op),
      (err) => failures.push(err),
      1,
      restartPages,
    );
    try {
      await client.ready;
      await client.execute("PRAGMA journal_mode=WAL");
      // No backstop: only the background checkpointer may copy pages and let the WAL start over.
      await client.execute("PRAGMA wal_autocheckpoint=0");
      await client.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)");
      // 40 writers, each committing as soon as its last commit returned: no pause between commits.
      const writers = 40;
      const perWriter = 100;
      await Promise.all(
        Array.from({ length: writers }, async () => {
          for (let i = 0; i < perWriter; i++) {
            await client.batch(
              [{ sql: "INSERT INTO t (v) VALUES (randomblob(6000))", args: [] }],
              "write",
            );
          }
        }),
      );
      const written = writers * perWriter * 2 * PAGE; // each row spans two pages: ~33 MB
      expect(failures).toEqual([]);
      // Had it never started over, the WAL would hold every page written.
      expect(bytes(`${path}-wal`)).toBeLessThan(written / 3);
      const rs = await client.execute("SELECT count(*) AS n FROM t");
      expect(Number(rs.rows[0]?.n)).toBe(writers * perWriter);
    } finally {
      checkpointer.close();
      client.close();
    }
  });
});
