import { getTableName } from "drizzle-orm";
import type { Clock } from "../clock.ts";
import type { Database } from "../db/client.ts";
import { signatureNonces } from "../db/schema.ts";

interface Waiting {
  key: string;
  namespace: string;
  nonce: string;
  resolve: (fresh: boolean) => void;
  reject: (err: unknown) => void;
}

const MAX_BATCH = 200;

const T = getTableName(signatureNonces);
const NS = signatureNonces.namespace.name;
const NONCE = signatureNonces.nonce.name;
const EXPIRES = signatureNonces.expiresAt.name;

/**
 * One statement text for every batch size: the batch arrives as one JSON array parameter. A
 * multi-row VALUES list made a new statement per size, and building and preparing it cost about
 * twice the write itself (bench/RESULTS.md, issue 11 groundwork). An expired nonce may be used
 * again: the conflicting row is renewed, and RETURNING names it. (`WHERE true` settles SQLite's
 * INSERT … SELECT … ON CONFLICT parsing ambiguity.)
 */
const UPSERT_SQL = `INSERT INTO "${T}" ("${NS}", "${NONCE}", "${EXPIRES}")
  SELECT value ->> 0, value ->> 1, ? FROM json_each(?) WHERE true
  ON CONFLICT ("${NS}", "${NONCE}") DO UPDATE SET "${EXPIRES}" = excluded."${EXPIRES}"
    WHERE "${T}"."${EXPIRES}" <= ?
  RETURNING "${NS}", "${NONCE}"`;

/**
 * Signature nonces, recorded per namespace in the database (a unique key, so replay protection
 * holds across processes). Requests arriving together share one INSERT and one commit — a
 * group commit — which costs a quarter of one write per request. A live duplicate is a replay;
 * an expired one may be reused.
 */
export class NonceStore {
  private queue: Waiting[] = [];

  constructor(
    private database: Database,
    private clock: Clock,
    private ttlMs: number,
  ) {}

  /** Resolves true for a fresh nonce, false for a replay; rejects when it cannot be stored. */
  record(namespace: string, nonce: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key: `${namespace}\u0000${nonce}`, namespace, nonce, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_BATCH);
    if (this.queue.length > 0) setImmediate(() => void this.flush());
    // Within one batch the first of two equal nonces wins; the second is a replay.
    const first = new Map<string, Waiting>();
    for (const w of batch) if (!first.has(w.key)) first.set(w.key, w);
    try {
      const fresh = await this.insert([...first.values()]);
      for (const w of batch) w.resolve(first.get(w.key) === w && fresh.has(w.key));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  private async insert(entries: Waiting[]): Promise<Set<string>> {
    const now = this.clock.now();
    const pairs = JSON.stringify(entries.map((e) => [e.namespace, e.nonce]));
    const rs = await this.database.client.execute({
      sql: UPSERT_SQL,
      args: [now + this.ttlMs, pairs, now],
    });
    return new Set(rs.rows.map((r) => `${String(r[NS])}\u0000${String(r[NONCE])}`));
  }
}
