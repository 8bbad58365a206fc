import { sha256Hex } from "../crypto.ts";
import type { Database } from "./client.ts";
import { MIGRATIONS, type Migration } from "./migrations.ts";

const LEDGER = `CREATE TABLE IF NOT EXISTS schema_migrations (
  tag TEXT PRIMARY KEY NOT NULL,
  hash TEXT NOT NULL,
  applied_at INTEGER NOT NULL
)`;

async function appliedTags(database: Database): Promise<Set<string>> {
  const rs = await database.client.execute("SELECT tag FROM schema_migrations");
  return new Set(rs.rows.map((r) => String(r.tag)));
}

/** Read-only: fails when the ledger does not exist yet (not migrated). */
export async function pendingMigrations(
  database: Database,
  all: Migration[] = MIGRATIONS,
): Promise<Migration[]> {
  const applied = await appliedTags(database);
  return all.filter((m) => !applied.has(m.tag));
}

function statementsOf(m: Migration) {
  return m.sql
    .split("--> statement-breakpoint")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Applies pending migrations, each with its ledger row in one transaction. Returns the tags applied. */
export async function migrate(
  database: Database,
  all: Migration[] = MIGRATIONS,
): Promise<string[]> {
  const done: string[] = [];
  await database.client.execute(LEDGER);
  for (const m of await pendingMigrations(database, all)) {
    const ledgerRow = {
      sql: "INSERT INTO schema_migrations (tag, hash, applied_at) VALUES (?, ?, ?)",
      args: [m.tag, sha256Hex(m.sql), Date.now()],
    };
    try {
      await database.client.batch([...statementsOf(m), ledgerRow], "write");
      done.push(m.tag);
    } catch (err) {
      // Another instance may have applied it between our check and our write.
      if ((await appliedTags(database)).has(m.tag)) continue;
      throw err;
    }
  }
  return done;
}
