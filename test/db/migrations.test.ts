import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import journal from "../../migrations/meta/_journal.json";
import { getPolicy } from "../../src/claims/queries.ts";
import type { AppContext } from "../../src/context.ts";
import { openDatabase } from "../../src/db/client.ts";
import { LockWaitingClient } from "../../src/db/lockWait.ts";
import { migrate, pendingMigrations } from "../../src/db/migrate.ts";
import { embeddedTags, MIGRATIONS } from "../../src/db/migrations.ts";
import type { Owner } from "../../src/db/schema.ts";

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

  test("the pending-count migration counts the claims already pending (with a service)", async () => {
    const { dir, config } = tempDatabase();
    const database = await openDatabase(config);
    const at = MIGRATIONS.findIndex((m) => m.tag.endsWith("_pending_claim_counts"));
    expect(at).toBeGreaterThan(0);
    await migrate(database, MIGRATIONS.slice(0, at));
    const run = (sql: string, args: (string | number | null)[] = []) =>
      database.client.execute({ sql, args });
    await run(
      "INSERT INTO owners (id, namespace, email, email_normalized, created_at, updated_at) VALUES ('o', 'ns', 'a@example.com', 'a@example.com', 0, 0)",
    );
    await run(
      "INSERT INTO services (id, owner_id, slug, name, created_at, updated_at) VALUES ('s', 'o', 'svc', 'S', 0, 0)",
    );
    const claim = (id: string, serviceId: string | null, status: string) =>
      run(
        `INSERT INTO claims (id, owner_id, namespace, service_id, service_slug, public_key, agent_ip,
          status, auto_approved, created_at, updated_at, change_seq)
         VALUES (?, 'o', 'ns', ?, 'svc', ?, '203.0.113.7', ?, 0, 0, 0, 0)`,
        [id, serviceId, `key-${id}`, status],
      );
    await claim("c1", "s", "pending");
    await claim("c2", "s", "pending");
    await claim("c3", "s", "approved");
    await claim("c4", null, "pending");

    await migrate(database);
    const rows = await run("SELECT namespace, service_id, n FROM pending_claim_counts");
    expect(rows.rows.map((r) => ({ ...r }) as Record<string, unknown>)).toEqual([
      { namespace: "ns", service_id: "s", n: 2 },
    ]);
    database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The namespace policy used to hold slugs; it now holds service ids (http-api.md §5). A slug is
  // converted only if its service existed before the policy was last written: a service
  // registered later may be someone who took the slug over, and trusting it is the bug fixed.
  test("the policy migration keeps only slugs whose service predates the policy, as ids", async () => {
    const { dir, config } = tempDatabase();
    const database = await openDatabase(config);
    const at = MIGRATIONS.findIndex((m) => m.tag.endsWith("_policy_service_ids"));
    expect(at).toBeGreaterThan(0);
    await migrate(database, MIGRATIONS.slice(0, at));
    const run = (sql: string, args: (string | number)[] = []) =>
      database.client.execute({ sql, args });
    const owner = (id: string, ns: string) =>
      run(
        "INSERT INTO owners (id, namespace, email, email_normalized, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)",
        [id, ns, `${ns}@example.com`, `${ns}@example.com`],
      );
    const service = (id: string, ownerId: string, slug: string, createdAt: number) =>
      run(
        "INSERT INTO services (id, owner_id, slug, name, created_at, updated_at) VALUES (?, ?, ?, 'S', ?, ?)",
        [id, ownerId, slug, createdAt, createdAt],
      );
    const policy = (ownerId: string, json: string, updatedAt: number) =>
      run(
        "INSERT INTO namespace_policies (owner_id, auto_approve_services, updated_at) VALUES (?, ?, ?)",
        [ownerId, json, updatedAt],
      );
    await owner("o-victim", "victim");
    await owner("o-partner", "partner");
    await owner("o-empty", "empty");
    await owner("o-broken", "broken");
    await service("s-kept", "o-partner", "kept", 500);
    await service("s-own", "o-victim", "own", 900);
    await service("s-late", "o-partner", "late", 2000);
    await service("s-same-ms", "o-partner", "same-ms", 1000);
    await policy(
      "o-victim",
      JSON.stringify(["kept", "own", "late", "same-ms", "gone", "kept"]),
      1000,
    );
    await policy("o-empty", "[]", 1000);
    await policy("o-broken", "not json", 1000);

    expect(await migrate(database)).toEqual(MIGRATIONS.slice(at).map((m) => m.tag));

    const rows = await run(
      "SELECT owner_id, service_id, kind FROM namespace_policy_services ORDER BY owner_id, service_id",
    );
    expect(rows.rows.map((r) => ({ ...r }) as Record<string, unknown>)).toEqual([
      { owner_id: "o-victim", service_id: "s-kept", kind: "auto_approve" },
      { owner_id: "o-victim", service_id: "s-own", kind: "auto_approve" },
    ]);
    const ctx = { database } as AppContext;
    const victim = { id: "o-victim", namespace: "victim" } as Owner;
    expect(await getPolicy(ctx, victim)).toEqual({
      namespace: "victim",
      auto_approve_services: [
        { id: "s-kept", slug: "kept" },
        { id: "s-own", slug: "own" },
      ],
      blocked_services: [],
      updated_at: new Date(1000).toISOString(),
    });
    const empty = await getPolicy(ctx, { id: "o-broken", namespace: "broken" } as Owner);
    expect(empty.auto_approve_services).toEqual([]);
    database.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
