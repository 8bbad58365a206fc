import { lte, sql } from "drizzle-orm";
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
    const expiresAt = now + this.ttlMs;
    // An expired nonce may be used again: the conflicting row is renewed, and RETURNING names it.
    const rows = await this.database.db
      .insert(signatureNonces)
      .values(entries.map((e) => ({ namespace: e.namespace, nonce: e.nonce, expiresAt })))
      .onConflictDoUpdate({
        target: [signatureNonces.namespace, signatureNonces.nonce],
        set: { expiresAt: sql`excluded.${sql.identifier(signatureNonces.expiresAt.name)}` },
        setWhere: lte(signatureNonces.expiresAt, now),
      })
      .returning({ namespace: signatureNonces.namespace, nonce: signatureNonces.nonce });
    return new Set(rows.map((r) => `${r.namespace}\u0000${r.nonce}`));
  }
}
