/**
 * Group commit on the embedded database (issue 11): write batches issued together share one
 * transaction and one commit, each in its own savepoint — one batch's failure undoes that batch
 * alone and reaches only its caller. Results keep `@libsql/client`'s shape.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { type Database, isUniqueViolation, openDatabase, writeBatch } from "../../src/db/client.ts";

let dir: string;
let database: Database;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sigilum-group-"));
  database = await openDatabase(
    {
      databaseUrl: `file:${join(dir, "g.db")}`,
      databaseAuthToken: "",
      dataDir: dir,
      embedded: true,
    },
    // These tests count WAL bytes; a background checkpoint would start the WAL over meanwhile.
    { backgroundCheckpoints: false },
  );
  await database.client.execute(
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER NOT NULL)",
  );
  await database.client.execute("CREATE TABLE log (what TEXT NOT NULL)");
});

afterAll(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

const insert = (name: string, n: number) => sql`INSERT INTO t (name, n) VALUES (${name}, ${n})`;
const note = (what: string) => sql`INSERT INTO log (what) VALUES (${what})`;

async function names(): Promise<string[]> {
  const rs = await database.client.execute("SELECT name FROM t ORDER BY id");
  return rs.rows.map((r) => String(r.name));
}

async function notes(): Promise<string[]> {
  const rs = await database.client.execute("SELECT what FROM log ORDER BY rowid");
  return rs.rows.map((r) => String(r.what));
}

function walBytes(): number {
  return statSync(join(dir, "g.db-wal")).size;
}

describe("group commit", () => {
  test("a failing batch is undone alone (its earlier statements too); the others commit", async () => {
    await writeBatch(database, [insert("taken", 0)]);
    const results = await Promise.allSettled([
      writeBatch(database, [note("first"), insert("a", 1)]),
      writeBatch(database, [note("second"), insert("taken", 2)]), // UNIQUE violation
      writeBatch(database, [note("third"), insert("b", 3)]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const failure = (results[1] as PromiseRejectedResult).reason;
    expect(isUniqueViolation(failure, "t.name")).toBe(true);
    expect(await names()).toEqual(["taken", "a", "b"]);
    expect(await notes()).toEqual(["first", "third"]);
  });

  test("batches issued together share one commit: the WAL grows by one commit's frames, not one per batch", async () => {
    // Warm up: one batch alone, to learn the size of one commit touching these pages.
    const before = walBytes();
    await writeBatch(database, [insert("solo", 0)]);
    const oneCommit = walBytes() - before;
    expect(oneCommit).toBeGreaterThan(0);
    const start = walBytes();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => writeBatch(database, [insert(`g${i}`, i)])),
    );
    const grew = walBytes() - start;
    // Twenty separate commits would append twenty times a commit's frames (the same pages each time).
    expect(grew).toBeLessThanOrEqual(oneCommit * 2);
    expect((await names()).filter((n) => n.startsWith("g"))).toHaveLength(20);
  });

  test("single write statements join the group too, and RETURNING rows come back to their caller", async () => {
    const [x, y] = await Promise.all([
      database.client.execute({
        sql: "INSERT INTO t (name, n) VALUES (?, ?) RETURNING id, name",
        args: ["rx", 7],
      }),
      database.client.execute({ sql: "UPDATE t SET n = n + 1 WHERE name = ?", args: ["rx"] }),
    ]);
    expect(x.rows[0]?.name).toBe("rx");
    expect(y.rowsAffected).toBe(1);
    const rs = await database.client.execute({
      sql: "SELECT n FROM t WHERE name = ?",
      args: ["rx"],
    });
    expect(Number(rs.rows[0]?.n)).toBe(8);
  });

  test("rows read by name and by index; spreading a row copies its named columns only", async () => {
    const rs = await database.client.execute({
      sql: "SELECT name, n, name AS again FROM t WHERE name = ?",
      args: ["a"],
    });
    const row = rs.rows[0]!;
    expect([row.name, row.n, row.again]).toEqual(["a", 1, "a"]);
    expect([row[0], row[1], row[2], row.length]).toEqual(["a", 1, "a", 3]);
    expect({ ...row } as Record<string, unknown>).toEqual({ name: "a", n: 1, again: "a" });
    expect(Array.prototype.slice.call(row)).toEqual(["a", 1, "a"]);
  });

  test("drizzle reads through the statement cache give the same answers on repeat", async () => {
    for (let i = 0; i < 3; i++) {
      const rows = await database.db.all<{ name: string; n: number }>(
        sql`SELECT name, n FROM t WHERE name = ${"b"}`,
      );
      expect(rows).toEqual([{ name: "b", n: 3 }]);
    }
  });
});
