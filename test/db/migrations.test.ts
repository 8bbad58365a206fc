import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import journal from "../../migrations/meta/_journal.json";
import { openDatabase } from "../../src/db/client.ts";
import { LockWaitingClient } from "../../src/db/lockWait.ts";
import { migrate, pendingMigrations } from "../../src/db/migrate.ts";
import { embeddedTags, MIGRATIONS } from "../../src/db/migrations.ts";

function tempDatabase() {
  const dir = mkdtempSync(join(tmpdir(), "sigilum-migrate-"));
  const config = {
    databaseUrl: `file:${join(dir, "t.db")}`,
    databaseAuthToken: "",
    dataDir: dir,
    embedded: true,
  };
  return { dir, config };
}

describe("migrations", () => {
  test("every SQL file and journal entry is embedded, in order", () => {
    const files = readdirSync(join(import.meta.dir, "../../migrations"))
      .filter((f) => f.endsWith(".sql"))
      .map((f) => f.replace(/\.sql$/, ""))
      .sort();
    expect(journal.entries.map((e) => e.tag)).toEqual(files);
    expect(embeddedTags().sort()).toEqual(files);
    expect(MIGRATIONS.map((m) => m.tag)).toEqual(files);
  });

  test("apply once, record in the ledger, and are idempotent; embedded DB is WAL with foreign keys", async () => {
    const { dir, config } = tempDatabase();
    const database = await openDatabase(config);
    expect(await migrate(database)).toEqual(MIGRATIONS.map((m) => m.tag));
    expect(await migrate(database)).toEqual([]);
    expect(await pendingMigrations(database)).toEqual([]);
    const tables = await database.client.execute(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    expect(tables.rows.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        "owners",
        "sessions",
        "services",
        "api_keys",
        "webhooks",
        "passkeys",
        "schema_migrations",
      ]),
    );
    expect((await database.client.execute("PRAGMA journal_mode")).rows[0]?.journal_mode).toBe(
      "wal",
    );
    expect((await database.client.execute("PRAGMA foreign_keys")).rows[0]?.foreign_keys).toBe(1);
    // Lock waits of ≥ 5 s happen on timers (LockWaitingClient); SQLite's own busy handler, which
    // would sleep the event loop, only covers a few ms (see test/db/lockWait.test.ts).
    expect(
      Number((await database.client.execute("PRAGMA busy_timeout")).rows[0]?.timeout),
    ).toBeLessThanOrEqual(10);
    expect(database.client).toBeInstanceOf(LockWaitingClient);
    expect((database.client as LockWaitingClient).limitMs).toBeGreaterThanOrEqual(5000);
    database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a failing migration is rolled back whole and not recorded", async () => {
    const { dir, config } = tempDatabase();
    const database = await openDatabase(config);
    const broken = [
      {
        tag: "9999_broken",
        sql: "CREATE TABLE half (x INTEGER);--> statement-breakpoint\nNOT SQL;",
      },
    ];
    await expect(migrate(database, broken)).rejects.toThrow();
    const half = await database.client.execute(
      "SELECT name FROM sqlite_master WHERE name = 'half'",
    );
    expect(half.rows).toHaveLength(0);
    expect(await pendingMigrations(database, broken)).toHaveLength(1);
    database.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
