/**
 * Account deletion (http-api.md §3) removes every row the owner has, table by table, through
 * the real server — with foreign keys OFF on the connection, so the explicit statements each
 * feature contributes are proved to suffice without cascades (remote databases do not promise
 * them). Everything of other owners stays as it was, except what names the deleted services:
 * those rows are orphaned (`service_id` null) or, for policy entries, removed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  Claim,
  ClaimSubmitted,
  ClaimWithHistory,
  Deleted,
  Policy,
  TokenCreated,
  WebhookCreated,
} from "../helpers/types.ts";
import { gatewayEvent, report, serviceClient } from "../usage/support.ts";

let t: TestServer;
const receiver = startReceiver();

beforeAll(async () => {
  t = await startTestServer({
    env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" },
  });
});
afterAll(async () => {
  await t.close();
  receiver.stop();
});

type Row = Record<string, unknown>;

async function rows(sql: string, args: (string | number | null)[] = []): Promise<Row[]> {
  const rs = await t.server.ctx.database.client.execute({ sql, args });
  return rs.rows.map((r) => ({ ...r }));
}

async function count(sql: string, args: (string | number | null)[] = []): Promise<number> {
  return Number((await rows(`SELECT count(*) AS n FROM ${sql}`, args))[0]!.n);
}

interface Ids {
  owner: string;
  service: string;
}

/** Per table, the victim's rows: they must all be gone after the deletion. */
function goneWhere(): Record<string, string> {
  const ownHooks = "SELECT id FROM webhooks WHERE service_id = :s";
  return {
    owners: "id = :o",
    sessions: "owner_id = :o",
    personal_access_tokens: "owner_id = :o",
    passkeys: "owner_id = :o",
    webauthn_challenges: "owner_id = :o",
    services: "owner_id = :o",
    api_keys: "service_id = :s",
    webhooks: "service_id = :s",
    deliveries: `webhook_id IN (${ownHooks})`,
    delivery_attempts: `delivery_id IN (SELECT id FROM deliveries WHERE webhook_id IN (${ownHooks}))`,
    claims: "owner_id = :o",
    claim_transitions: "claim_id IN (SELECT id FROM claims WHERE owner_id = :o)",
    claim_nonces: "service_id = :s",
    pending_claim_counts: "service_id = :s",
    namespace_policies: "owner_id = :o",
    namespace_policy_services: "owner_id = :o OR service_id = :s",
    usage_events: "owner_id = :o",
  };
}

/** Tables whose rows of other owners name the deleted service: they stay, orphaned. */
const ORPHANED = ["events", "claims", "usage_events", "feed_tombstones"];

function bind(where: string, ids: Ids) {
  return {
    where: where.replaceAll(/:[os]/g, "?"),
    args: [...where.matchAll(/:[os]/g)].map((m) => (m[0] === ":o" ? ids.owner : ids.service)),
  };
}

// Not owner-scoped: counters, the cache change log, per-namespace agent-signature nonces (they
// expire by themselves), migrations and instance settings.
const NOT_OWNER_SCOPED = new Set([
  "sequences",
  "cache_changes",
  "signature_nonces",
  "schema_migrations",
  "sqlite_sequence",
]);

async function ownerScopedTables(): Promise<string[]> {
  return (await rows("SELECT name FROM sqlite_master WHERE type = 'table'"))
    .map((r) => String(r.name))
    .filter((name) => !NOT_OWNER_SCOPED.has(name) && !name.startsWith("_"))
    .sort();
}

/**
 * A table's rows as sorted JSON, the victim's service id shown as null (what orphaning does) and
 * the usage timestamps flushed in the background left out.
 */
async function snapshot(table: string, ids: Ids, where = "1 = 1"): Promise<string[]> {
  const { where: w, args } = bind(where, ids);
  return (await rows(`SELECT * FROM ${table} WHERE ${w}`, args))
    .map(({ last_used_at: _flushed, ...rest }) =>
      JSON.stringify(rest.service_id === ids.service ? { ...rest, service_id: null } : rest),
    )
    .sort();
}

/** `all` without one occurrence of each of `gone`. */
function without(all: string[], gone: string[]): string[] {
  const left = [...all];
  for (const row of gone) {
    const i = left.indexOf(row);
    if (i >= 0) left.splice(i, 1);
  }
  return left;
}

async function settleDeliveries() {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const pending = await count("deliveries WHERE status = 'pending'");
    const attempted = await count(
      "deliveries d WHERE NOT EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.delivery_id = d.id)",
    );
    if (pending === 0 && attempted === 0) return;
    await Bun.sleep(20);
  }
  throw new Error("deliveries did not settle");
}

async function submitted(s: ServiceSetup, namespace: string): Promise<{ id: string; key: string }> {
  const agent = await newAgent(namespace);
  const res = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
  expect(res.status).toBeLessThan(300);
  return { id: res.body.claim_id, key: agent.publicKey };
}

/** An owner `d` and a bystander `e`, with rows in every owner-scoped table naming each other. */
async function populate() {
  const d = await ownerWithKey(t);
  const e = await ownerWithKey(t);
  const [dOwner] = await rows("SELECT id FROM owners WHERE namespace = ?", [d.namespace]);
  const ids = { owner: String(dOwner!.id), service: d.serviceId, namespace: d.namespace };

  for (const s of [d, e]) {
    expect((await s.client.post<TokenCreated>("/v1/auth/tokens", { name: "ci" })).status).toBe(201);
    const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
      url: `${receiver.url}/hook`,
    });
    expect(hook.status).toBe(201);
  }
  // Passkey rows written directly (registering needs an authenticator: test/auth/passkeys*);
  // pending add-passkey challenges through the API.
  for (const s of [d, e]) {
    expect((await s.client.get("/v1/auth/passkeys/options")).status).toBe(200);
  }
  await rows(
    `INSERT INTO passkeys (id, owner_id, credential_id, public_key, name, created_at)
       VALUES (?, ?, ?, 'key-d', 'laptop', 1), (?, ?, ?, 'key-e', 'phone', 1)`,
    [
      `pk-${d.namespace}`,
      ids.owner,
      `cred-${d.namespace}`,
      `pk-${e.namespace}`,
      (await rows("SELECT id FROM owners WHERE namespace = ?", [e.namespace]))[0]!.id as string,
      `cred-${e.namespace}`,
    ],
  );

  const own = await submitted(d, d.namespace); // d's namespace, d's service
  const onOther = await submitted(e, d.namespace); // d's namespace, e's service
  const foreign = await submitted(d, e.namespace); // e's namespace, d's service
  const theirs = await submitted(e, e.namespace); // e's namespace, e's service
  // Left pending, so the pending counts have rows naming d's service in both namespaces.
  await submitted(d, d.namespace);
  await submitted(d, e.namespace);
  for (const c of [own, onOther]) {
    expect((await d.client.post<Claim>(`/v1/claims/${c.id}/approve`)).status).toBe(200);
  }
  for (const c of [foreign, theirs]) {
    expect((await e.client.post<Claim>(`/v1/claims/${c.id}/approve`)).status).toBe(200);
  }
  expect(
    (
      await d.client.put<Policy>(`/v1/namespaces/${d.namespace}/policy`, {
        auto_approve_services: [e.slug],
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await e.client.put<Policy>(`/v1/namespaces/${e.namespace}/policy`, {
        blocked_services: [d.slug],
      })
    ).status,
  ).toBe(200);
  for (const [s, namespace, key] of [
    [d, d.namespace, own.key],
    [e, d.namespace, onOther.key],
    [d, e.namespace, foreign.key],
    [e, e.namespace, theirs.key],
  ] as const) {
    const res = await report(serviceClient(t, s.apiKey), gatewayEvent(namespace, s.slug, key));
    expect(res.status).toBe(201);
  }
  await settleDeliveries();
  return { d, e, ids, own, onOther, foreign, theirs };
}

/**
 * Runs `act` with foreign keys OFF and checks that exactly the `gone` rows went, that nothing
 * names the victim's service any more, and that every other row is unchanged (orphaning aside).
 */
async function expectErasure(
  ids: Ids,
  gone: Record<string, string>,
  act: () => Promise<void>,
  newTombstones: [string, string][],
) {
  const tables = await ownerScopedTables();
  // There are rows to delete in every table named.
  for (const [table, where] of Object.entries(gone)) {
    const { where: w, args } = bind(where, ids);
    expect({ table, has: (await count(`${table} WHERE ${w}`, args)) > 0 }).toEqual({
      table,
      has: true,
    });
  }
  // …and other owners have rows naming the service (feed tombstones only appear on deletion).
  for (const [table, where] of [
    ["events", "service_id = ?"],
    ["claims", "service_id = ? AND owner_id != ?"],
    ["usage_events", "service_id = ? AND owner_id != ?"],
  ] as const) {
    const n = await count(
      `${table} WHERE ${where}`,
      [ids.service, ids.owner].slice(0, where.split("?").length - 1),
    );
    expect({ table, has: n > 0 }).toEqual({ table, has: true });
  }

  const before: Record<string, string[]> = {};
  const expected: Record<string, string[]> = {};
  for (const table of tables) {
    before[table] = await snapshot(table, ids);
    expected[table] = without(
      before[table]!,
      gone[table] ? await snapshot(table, ids, gone[table]) : [],
    );
  }

  const db = t.server.ctx.database.client;
  await db.execute("PRAGMA foreign_keys=OFF");
  try {
    expect(Number((await db.execute("PRAGMA foreign_keys")).rows[0]![0])).toBe(0);
    await act();
  } finally {
    await db.execute("PRAGMA foreign_keys=ON");
  }

  for (const [table, where] of Object.entries(gone)) {
    const { where: w, args } = bind(where, ids);
    expect({ table, left: await count(`${table} WHERE ${w}`, args) }).toEqual({ table, left: 0 });
  }
  for (const table of ORPHANED) {
    const left = await count(`${table} WHERE service_id = ?`, [ids.service]);
    expect({ table, left }).toEqual({ table, left: 0 });
  }
  // Every other row is exactly as it was, orphaning aside; only the tombstones named are new.
  for (const table of tables) {
    const after = await snapshot(table, ids);
    if (table === "feed_tombstones") {
      const added = without(after, expected[table]!).map((row) => JSON.parse(row));
      expect(added.map((row) => [row.claim_id, row.service_id])).toEqual(newTombstones);
      expect(without(expected[table]!, after)).toEqual([]);
      continue;
    }
    expect({ table, rows: after }).toEqual({ table, rows: expected[table]! });
  }
}

describe("deletion with foreign keys off: each feature's explicit statements suffice", () => {
  test("account deletion leaves nothing of the owner in any table and changes nothing of others", async () => {
    const { d, e, ids, onOther, foreign } = await populate();
    // Every table is covered: a new table has to say here whether, and how, it is owner-scoped.
    const tables = await ownerScopedTables();
    expect(tables).toEqual([...new Set([...Object.keys(goneWhere()), ...ORPHANED])].sort());
    await expectErasure(
      ids,
      goneWhere(),
      async () => {
        expect((await d.client.delete<Deleted>("/v1/auth/account")).status).toBe(200);
      },
      // The deleted namespace's approved claim on a live service leaves a feed tombstone.
      [[onOther.id, e.serviceId]],
    );
    expect((await e.client.get<ClaimWithHistory>(`/v1/claims/${foreign.id}`)).body).toMatchObject({
      status: "approved",
      service_id: null,
    });
  });

  test("service deletion removes what hangs off the service and orphans what names it", async () => {
    const { d, e, ids, own, foreign } = await populate();
    const ownHooks = "SELECT id FROM webhooks WHERE service_id = :s";
    await expectErasure(
      ids,
      {
        services: "id = :s",
        api_keys: "service_id = :s",
        webhooks: "service_id = :s",
        deliveries: `webhook_id IN (${ownHooks})`,
        delivery_attempts: `delivery_id IN (SELECT id FROM deliveries WHERE webhook_id IN (${ownHooks}))`,
        claim_nonces: "service_id = :s",
        // Orphaned claims do not count against the caps: their counts go, not orphaned.
        pending_claim_counts: "service_id = :s",
        namespace_policy_services: "service_id = :s",
      },
      async () => {
        expect((await d.client.delete<Deleted>(`/v1/services/${d.serviceId}`)).status).toBe(200);
      },
      [],
    );
    expect((await d.client.get<ClaimWithHistory>(`/v1/claims/${own.id}`)).body).toMatchObject({
      service_id: null,
    });
    expect((await e.client.get<ClaimWithHistory>(`/v1/claims/${foreign.id}`)).body).toMatchObject({
      service_id: null,
    });
  });
});
