import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { NonceStore } from "../../src/http/nonceStore.ts";
import { ManualClock } from "../helpers/server.ts";

describe("signature nonce store (group commit)", () => {
  const dir = mkdtempSync(join(tmpdir(), "sigilum-nonces-"));
  const clock = new ManualClock();
  let database: Database;
  let store: NonceStore;
  beforeAll(async () => {
    database = await openDatabase({
      databaseUrl: `file:${join(dir, "n.db")}`,
      databaseAuthToken: "",
      dataDir: dir,
      embedded: true,
    });
    await migrate(database);
    store = new NonceStore(database, clock, 600_000);
  });
  afterAll(() => {
    database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("many concurrent nonces share a write and are all fresh; an equal pair in one batch has one winner", async () => {
    const distinct = await Promise.all(
      Array.from({ length: 500 }, (_, i) => store.record("acme", `n-${i}`)),
    );
    expect(distinct.every((fresh) => fresh)).toBe(true);
    const pair = await Promise.all([store.record("acme", "twice"), store.record("acme", "twice")]);
    expect(pair.sort()).toEqual([false, true]);
    const rows = await database.client.execute("SELECT count(*) AS n FROM signature_nonces");
    expect(Number(rows.rows[0]?.n)).toBe(501);
  });

  test("a nonce is a replay in its namespace until it expires, and never in another namespace", async () => {
    expect(await store.record("acme", "replayed")).toBe(true);
    expect(await store.record("acme", "replayed")).toBe(false);
    expect(await store.record("other", "replayed")).toBe(true);
    clock.advance(600_001);
    expect(await store.record("acme", "replayed")).toBe(true);
    expect(await store.record("acme", "replayed")).toBe(false);
  });

  test("nonces with quotes, backslashes, JSON escapes and non-ASCII letters round-trip exactly in one batch", async () => {
    const odd = ['q"uote', "back\\slash", "[1,2]", "{}", "tab\tand\u0001", "ünïcödé", "  spaced  "];
    const first = await Promise.all(odd.map((nonce) => store.record("acme", nonce)));
    expect(first).toEqual(odd.map(() => true));
    const again = await Promise.all(odd.map((nonce) => store.record("acme", nonce)));
    expect(again).toEqual(odd.map(() => false));
    const stored = await database.client.execute({
      sql: `SELECT nonce FROM signature_nonces WHERE nonce IN (${odd.map(() => "?").join(",")})`,
      args: odd,
    });
    expect(stored.rows.map((r) => String(r.nonce)).sort()).toEqual([...odd].sort());
  });

  test("a store that cannot be written rejects every waiter of the batch", async () => {
    await database.client.execute("ALTER TABLE signature_nonces RENAME TO gone");
    const results = await Promise.allSettled([
      store.record("acme", "x1"),
      store.record("acme", "x2"),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await database.client.execute("ALTER TABLE gone RENAME TO signature_nonces");
    expect(await store.record("acme", "x1")).toBe(true);
  });
});
