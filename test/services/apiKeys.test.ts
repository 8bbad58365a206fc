import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hasValidChecksum, mintSecret } from "../../src/secrets.ts";
import { authenticateApiKey } from "../../src/services/apiKeys.ts";
import { expectError, expectValidation, ISO_MS } from "../helpers/assertions.ts";
import { count, queryRows } from "../helpers/rows.ts";
import {
  type ApiClient,
  ManualClock,
  ownerWithService,
  signUp,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import type {
  ApiErrorBody,
  ApiKey,
  ApiKeyCreated,
  ApiKeyList,
  Deleted,
  Service,
  TokenCreated,
} from "../helpers/types.ts";
import { KEY_RE } from "./support.ts";

const HOUR = 3_600_000;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Replaces the character at `i` with a different base62 character. */
function typo(key: string, i: number): string {
  const c = key[i]!;
  const replacement = BASE62[(BASE62.indexOf(c) + 1) % BASE62.length]!;
  return `${key.slice(0, i)}${replacement}${key.slice(i + 1)}`;
}

describe("API keys", () => {
  const clock = new ManualClock();
  let t: TestServer;
  let owner: ApiClient;
  let serviceId: string;
  let keysPath: string;

  beforeAll(async () => {
    t = await startTestServer({ clock });
    const o = await ownerWithService(t);
    owner = o.client;
    serviceId = o.service.id;
    keysPath = `/v1/services/${serviceId}/keys`;
  });
  afterAll(() => t.close());

  /** A fresh service per test keeps key counts and limits independent. */
  async function freshService(): Promise<string> {
    const res = await owner.post<Service>("/v1/services", {
      slug: uniqueName("keys"),
      name: "Keys",
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  const iso = (ms: number) => new Date(ms).toISOString();

  describe("create", () => {
    test("201 with the full key once; format, prefix, id, defaults", async () => {
      const res = await owner.post<ApiKeyCreated>(keysPath, {});
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(
        ["created_at", "environment", "expires_at", "id", "key", "name", "prefix"].sort(),
      );
      expect(res.body.key).toMatch(KEY_RE);
      expect(res.body.key.startsWith("sgl_sk_prod_")).toBe(true);
      expect(res.body.id).toMatch(/^key_[0-9A-Za-z]{20}$/);
      expect(res.body.prefix).toBe(res.body.key.slice(0, 16));
      expect(res.body).toMatchObject({ environment: "prod", name: null, expires_at: null });
      expect(res.body.created_at).toBe(iso(clock.now()));
    });

    test("no body at all is fine (defaults)", async () => {
      const res = await owner.post<ApiKeyCreated>(keysPath);
      expect(res.status).toBe(201);
      expect(res.body.key).toMatch(/^sgl_sk_prod_/);
    });

    test("environment test → sgl_sk_test_; name is trimmed", async () => {
      const res = await owner.post<ApiKeyCreated>(keysPath, {
        environment: "test",
        name: "  CI runner  ",
      });
      expect(res.status).toBe(201);
      expect(res.body.key).toMatch(/^sgl_sk_test_[0-9A-Za-z]{38}$/);
      expect(res.body.prefix).toBe(res.body.key.slice(0, 16));
      expect(res.body).toMatchObject({ environment: "test", name: "CI runner" });
    });

    test("unknown environment, bad name → 400", async () => {
      expectValidation(
        await owner.post<ApiErrorBody>(keysPath, { environment: "dev" }),
        "environment",
      );
      expectValidation(
        await owner.post<ApiErrorBody>(keysPath, { environment: "PROD" }),
        "environment",
      );
      expectValidation(await owner.post<ApiErrorBody>(keysPath, { name: "x".repeat(101) }), "name");
      expectValidation(await owner.post<ApiErrorBody>(keysPath, { name: "   " }), "name");
    });

    test("the last 6 characters are a CRC-32 checksum; a one-character typo breaks it", async () => {
      const res = await owner.post<ApiKeyCreated>(keysPath, {});
      const key: string = res.body.key;
      expect(hasValidChecksum(key)).toBe(true);
      for (const i of [7, 12, 20, 30, 43, key.length - 1]) {
        const broken = typo(key, i);
        expect(broken).not.toBe(key);
        expect(hasValidChecksum(broken)).toBe(false);
        expect(await authenticateApiKey(t.server.ctx, broken)).toBeNull();
      }
      expect(await authenticateApiKey(t.server.ctx, key)).not.toBeNull();
    });

    test("each key is different", async () => {
      const a = await owner.post<ApiKeyCreated>(keysPath, {});
      const b = await owner.post<ApiKeyCreated>(keysPath, {});
      expect(a.body.key).not.toBe(b.body.key);
      expect(a.body.id).not.toBe(b.body.id);
      // Clean up so the default limit of 10 is not approached by this file.
      await owner.delete<ApiKey>(`${keysPath}/${a.body.id}`);
      await owner.delete<ApiKey>(`${keysPath}/${b.body.id}`);
    });
  });

  describe("the secret is shown once", () => {
    test("never in list, get-after, revoke response, nor anywhere in the database", async () => {
      const id = await freshService();
      const created = await owner.post<ApiKeyCreated>(`/v1/services/${id}/keys`, {
        name: "secret",
      });
      const key: string = created.body.key;

      const list = await owner.get<ApiKeyList>(`/v1/services/${id}/keys`);
      expect(list.status).toBe(200);
      expect(JSON.stringify(list.body)).not.toContain(key);
      expect("key" in list.body.keys[0]!).toBe(false);
      expect(Object.keys(list.body.keys[0]!).sort()).toEqual(
        [
          "created_at",
          "environment",
          "expires_at",
          "id",
          "last_used_at",
          "name",
          "prefix",
          "revoked_at",
          "status",
        ].sort(),
      );
      // The prefix is the only part of the secret that is shown again.
      expect(list.body.keys[0]!.prefix).toBe(key.slice(0, 16));

      const rows = await queryRows(t, "SELECT * FROM api_keys WHERE id = ?", [created.body.id]);
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(JSON.stringify(row)).not.toContain(key);
      expect(JSON.stringify(row)).not.toContain(key.slice(16));
      expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.key_hash).toBe(sha256(key));

      // No table holds the key in the clear.
      const tables = await queryRows(t, "SELECT name FROM sqlite_master WHERE type = 'table'");
      for (const { name } of tables) {
        const all = await queryRows(t, `SELECT * FROM "${String(name)}"`);
        expect(JSON.stringify(all)).not.toContain(key.slice(16));
      }

      const revoked = await owner.delete<ApiKey>(`/v1/services/${id}/keys/${created.body.id}`);
      expect(revoked.status).toBe(200);
      expect(JSON.stringify(revoked.body)).not.toContain(key);

      // Nor in the database files on disk (main file and WAL) …
      const secretPart = Buffer.from(key.slice(16));
      for (const file of readdirSync(t.dataDir)) {
        const bytes = readFileSync(join(t.dataDir, file));
        expect(bytes.includes(secretPart)).toBe(false);
      }
      // … nor in the logs.
      expect(t.logs.join("\n")).not.toContain(key.slice(16));
    });
  });

  describe("list", () => {
    let svc: string;
    let active: string;
    let revoked: string;
    let expired: string;

    beforeAll(async () => {
      svc = await freshService();
      const path = `/v1/services/${svc}/keys`;
      expired = (await owner.post<ApiKeyCreated>(path, { expires_at: iso(clock.now() + HOUR) }))
        .body.id;
      revoked = (await owner.post<ApiKeyCreated>(path, {})).body.id;
      active = (
        await owner.post<ApiKeyCreated>(path, { expires_at: iso(clock.now() + 100 * HOUR) })
      ).body.id;
      await owner.delete<ApiKey>(`${path}/${revoked}`);
      clock.advance(2 * HOUR);
    });

    test.each([
      ["active", () => [active]],
      ["revoked", () => [revoked]],
      ["expired", () => [expired]],
    ])("?status=%s", async (status, expected) => {
      const res = await owner.get<ApiKeyList>(`/v1/services/${svc}/keys?status=${status}`);
      expect(res.status).toBe(200);
      expect(res.body.keys.map((k: { id: string }) => k.id)).toEqual(expected());
      expect(res.body.keys.every((k: { status: string }) => k.status === status)).toBe(true);
      expect(res.body.pagination).toEqual({ limit: 50, offset: 0, total: 1, has_more: false });
    });

    test("?status=all and the default list every key", async () => {
      for (const q of ["?status=all", ""]) {
        const res = await owner.get<ApiKeyList>(`/v1/services/${svc}/keys${q}`);
        expect(res.status).toBe(200);
        const ids = res.body.keys.map((k: { id: string }) => k.id).sort();
        expect(ids).toEqual([active, revoked, expired].sort());
        expect(res.body.pagination.total).toBe(3);
      }
    });

    test("pagination over keys", async () => {
      const res = await owner.get<ApiKeyList>(`/v1/services/${svc}/keys?limit=2&offset=1`);
      expect(res.status).toBe(200);
      expect(res.body.keys).toHaveLength(2);
      expect(res.body.pagination).toEqual({ limit: 2, offset: 1, total: 3, has_more: false });
      const first = await owner.get<ApiKeyList>(`/v1/services/${svc}/keys?limit=1`);
      expect(first.body.pagination).toEqual({ limit: 1, offset: 0, total: 3, has_more: true });
    });

    test.each([
      "status=bogus",
      "status=ACTIVE",
      "status=",
      "limit=0",
      "limit=201",
      "offset=-1",
      "foo=bar",
    ])("?%s → 400 VALIDATION_ERROR", async (q) => {
      expectValidation(await owner.get<ApiErrorBody>(`/v1/services/${svc}/keys?${q}`));
    });
  });

  describe("revoke", () => {
    test("→ 200 ApiKey with revoked_at and status revoked; twice is fine; stops working at once", async () => {
      const created = await owner.post<ApiKeyCreated>(keysPath, { name: "to revoke" });
      const key: string = created.body.key;
      expect(await authenticateApiKey(t.server.ctx, key)).not.toBeNull();

      const res = await owner.delete<ApiKey>(`${keysPath}/${created.body.id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: created.body.id,
        name: "to revoke",
        prefix: created.body.prefix,
        environment: "prod",
        status: "revoked",
        created_at: created.body.created_at,
        last_used_at: null,
        expires_at: null,
        revoked_at: iso(clock.now()),
      });
      expect(await authenticateApiKey(t.server.ctx, key)).toBeNull();

      clock.advance(1_000);
      const again = await owner.delete<ApiKey>(`${keysPath}/${created.body.id}`);
      expect(again.status).toBe(200);
      expect(again.body.status).toBe("revoked");
      expect(again.body.revoked_at).toBe(res.body.revoked_at);
      expect(await authenticateApiKey(t.server.ctx, key)).toBeNull();

      const [row] = await queryRows(t, "SELECT revoked_at FROM api_keys WHERE id = ?", [
        created.body.id,
      ]);
      expect(Number(row?.revoked_at)).toBe(Date.parse(res.body.revoked_at!));
    });

    test("unknown key id → 404 NOT_FOUND", async () => {
      expectError(
        await owner.delete<ApiErrorBody>(`${keysPath}/key_00000000000000000000`),
        404,
        "NOT_FOUND",
      );
      expectError(await owner.delete<ApiErrorBody>(`${keysPath}/nonsense`), 404, "NOT_FOUND");
    });

    test("a key of another service of the same owner is not found under this one", async () => {
      const other = await freshService();
      const created = await owner.post<ApiKeyCreated>(`/v1/services/${other}/keys`, {});
      expectError(
        await owner.delete<ApiErrorBody>(`${keysPath}/${created.body.id}`),
        404,
        "NOT_FOUND",
      );
      expectError(
        await owner.post<ApiErrorBody>(`${keysPath}/${created.body.id}/roll`, {}),
        404,
        "NOT_FOUND",
      );
      expect(await authenticateApiKey(t.server.ctx, created.body.key)).not.toBeNull();
    });
  });

  describe("expiry", () => {
    test("expires_at 1 h ahead: active, then expired after 2 h and rejected", async () => {
      const svc = await freshService();
      const path = `/v1/services/${svc}/keys`;
      const expiresAt = iso(clock.now() + HOUR);
      const created = await owner.post<ApiKeyCreated>(path, { expires_at: expiresAt });
      expect(created.status).toBe(201);
      expect(created.body.expires_at).toBe(expiresAt);
      expect(await authenticateApiKey(t.server.ctx, created.body.key)).not.toBeNull();
      expect((await owner.get<Service>(`/v1/services/${svc}`)).body.active_key_count).toBe(1);

      clock.advance(2 * HOUR);
      const list = await owner.get<ApiKeyList>(path);
      expect(list.body.keys[0]).toMatchObject({
        id: created.body.id,
        status: "expired",
        expires_at: expiresAt,
        revoked_at: null,
      });
      expect(await authenticateApiKey(t.server.ctx, created.body.key)).toBeNull();
      expect((await owner.get<Service>(`/v1/services/${svc}`)).body.active_key_count).toBe(0);

      // An expired key cannot be rolled.
      expectError(
        await owner.post<ApiErrorBody>(`${path}/${created.body.id}/roll`, {}),
        409,
        "CONFLICT",
      );
    });

    test("expiry is exact: the key works until the instant and not at it", async () => {
      const svc = await freshService();
      const created = await owner.post<ApiKeyCreated>(`/v1/services/${svc}/keys`, {
        expires_at: iso(clock.now() + 10_000),
      });
      clock.advance(9_999);
      expect(await authenticateApiKey(t.server.ctx, created.body.key)).not.toBeNull();
      clock.advance(1);
      expect(await authenticateApiKey(t.server.ctx, created.body.key)).toBeNull();
    });

    test("expires_at in the past, now, or not a timestamp → 400", async () => {
      const before = await count(t, "api_keys");
      expectValidation(
        await owner.post<ApiErrorBody>(keysPath, { expires_at: iso(clock.now() - 1) }),
        "expires_at",
      );
      expectValidation(
        await owner.post<ApiErrorBody>(keysPath, { expires_at: iso(clock.now()) }),
        "expires_at",
      );
      expectValidation(
        await owner.post<ApiErrorBody>(keysPath, { expires_at: "tomorrow" }),
        "expires_at",
      );
      expectValidation(
        await owner.post<ApiErrorBody>(keysPath, { expires_at: 1_900_000_000_000 }),
        "expires_at",
      );
      expect(await count(t, "api_keys")).toBe(before);
    });
  });

  describe("roll", () => {
    test("→ 201 new key; the old one works within the grace and not after", async () => {
      const svc = await freshService();
      const path = `/v1/services/${svc}/keys`;
      const old = await owner.post<ApiKeyCreated>(path, { name: "rolling", environment: "test" });
      const res = await owner.post<ApiKeyCreated>(`${path}/${old.body.id}/roll`, {
        grace_seconds: 60,
      });
      expect(res.status).toBe(201);
      expect(res.body.key).toMatch(/^sgl_sk_test_[0-9A-Za-z]{38}$/);
      expect(hasValidChecksum(res.body.key)).toBe(true);
      expect(res.body.key).not.toBe(old.body.key);
      expect(res.body.id).not.toBe(old.body.id);
      expect(res.body).toMatchObject({ name: "rolling", environment: "test", expires_at: null });
      expect(res.body.prefix).toBe(res.body.key.slice(0, 16));

      const list = await owner.get<ApiKeyList>(`${path}?status=active`);
      const oldView = list.body.keys.find((k: { id: string }) => k.id === old.body.id);
      expect(oldView!.expires_at).toBe(iso(clock.now() + 60_000));

      expect(await authenticateApiKey(t.server.ctx, old.body.key)).not.toBeNull();
      expect(await authenticateApiKey(t.server.ctx, res.body.key)).not.toBeNull();
      clock.advance(59_000);
      expect(await authenticateApiKey(t.server.ctx, old.body.key)).not.toBeNull();
      clock.advance(2_000);
      expect(await authenticateApiKey(t.server.ctx, old.body.key)).toBeNull();
      expect(await authenticateApiKey(t.server.ctx, res.body.key)).not.toBeNull();
      expect((await owner.get<ApiKeyList>(`${path}?status=expired`)).body.keys[0]!.id).toBe(
        old.body.id,
      );
    });

    test("grace_seconds: 0 retires the old key at once", async () => {
      const svc = await freshService();
      const path = `/v1/services/${svc}/keys`;
      const old = await owner.post<ApiKeyCreated>(path, {});
      const res = await owner.post<ApiKeyCreated>(`${path}/${old.body.id}/roll`, {
        grace_seconds: 0,
      });
      expect(res.status).toBe(201);
      expect(await authenticateApiKey(t.server.ctx, old.body.key)).toBeNull();
      expect(await authenticateApiKey(t.server.ctx, res.body.key)).not.toBeNull();
      const list = await owner.get<ApiKeyList>(`${path}?status=active`);
      expect(list.body.keys.map((k: { id: string }) => k.id)).toEqual([res.body.id]);
    });

    test("default grace is 86400 s; no body works", async () => {
      const svc = await freshService();
      const path = `/v1/services/${svc}/keys`;
      const old = await owner.post<ApiKeyCreated>(path, {});
      const res = await owner.post<ApiKeyCreated>(`${path}/${old.body.id}/roll`);
      expect(res.status).toBe(201);
      const list = await owner.get<ApiKeyList>(path);
      const oldView = list.body.keys.find((k: { id: string }) => k.id === old.body.id);
      expect(oldView!.expires_at).toBe(iso(clock.now() + 86_400_000));
    });

    test("a key that expires sooner than the grace keeps its own expiry", async () => {
      const svc = await freshService();
      const path = `/v1/services/${svc}/keys`;
      const expiresAt = iso(clock.now() + 30_000);
      const old = await owner.post<ApiKeyCreated>(path, { expires_at: expiresAt });
      const res = await owner.post<ApiKeyCreated>(`${path}/${old.body.id}/roll`, {
        grace_seconds: 3600,
      });
      expect(res.status).toBe(201);
      const list = await owner.get<ApiKeyList>(path);
      const oldView = list.body.keys.find((k: { id: string }) => k.id === old.body.id);
      expect(oldView!.expires_at).toBe(expiresAt);
    });

    test("grace bounds: 604800 ok; 604801, -1, 1.5, extra field → 400", async () => {
      const svc = await freshService();
      const path = `/v1/services/${svc}/keys`;
      const old = await owner.post<ApiKeyCreated>(path, {});
      const rollPath = `${path}/${old.body.id}/roll`;
      const before = await count(t, "api_keys", "service_id = ?", [svc]);
      expectValidation(
        await owner.post<ApiErrorBody>(rollPath, { grace_seconds: 604_801 }),
        "grace_seconds",
      );
      expectValidation(
        await owner.post<ApiErrorBody>(rollPath, { grace_seconds: -1 }),
        "grace_seconds",
      );
      expectValidation(
        await owner.post<ApiErrorBody>(rollPath, { grace_seconds: 1.5 }),
        "grace_seconds",
      );
      expectValidation(await owner.post<ApiErrorBody>(rollPath, { grace: 60 }), "grace");
      expect(await count(t, "api_keys", "service_id = ?", [svc])).toBe(before);
      expect(await authenticateApiKey(t.server.ctx, old.body.key)).not.toBeNull();

      const res = await owner.post<ApiKeyCreated>(rollPath, { grace_seconds: 604_800 });
      expect(res.status).toBe(201);
    });

    test("rolling a revoked key → 409 CONFLICT and mints nothing", async () => {
      const svc = await freshService();
      const path = `/v1/services/${svc}/keys`;
      const old = await owner.post<ApiKeyCreated>(path, {});
      await owner.delete<ApiKey>(`${path}/${old.body.id}`);
      const before = await count(t, "api_keys", "service_id = ?", [svc]);
      const res = await owner.post<ApiErrorBody>(`${path}/${old.body.id}/roll`, {
        grace_seconds: 60,
      });
      expectError(res, 409, "CONFLICT");
      expect(res.body.error).toContain("revoked");
      expect(await count(t, "api_keys", "service_id = ?", [svc])).toBe(before);
    });

    test("a key already rolled with grace can be rolled again only while still active", async () => {
      const svc = await freshService();
      const path = `/v1/services/${svc}/keys`;
      const old = await owner.post<ApiKeyCreated>(path, {});
      await owner.post<ApiKeyCreated>(`${path}/${old.body.id}/roll`, { grace_seconds: 0 });
      expectError(
        await owner.post<ApiErrorBody>(`${path}/${old.body.id}/roll`, {}),
        409,
        "CONFLICT",
      );
    });

    test("unknown key → 404", async () => {
      expectError(
        await owner.post<ApiErrorBody>(`${keysPath}/key_00000000000000000000/roll`, {}),
        404,
        "NOT_FOUND",
      );
    });
  });

  describe("last_used_at", () => {
    test("null after creation and right after use; set after the batched flush", async () => {
      const svc = await freshService();
      const path = `/v1/services/${svc}/keys`;
      const created = await owner.post<ApiKeyCreated>(path, {});
      const view = async () => (await owner.get<ApiKeyList>(path)).body.keys[0];
      expect((await view())!.last_used_at).toBeNull();

      clock.advance(1_000);
      const usedAt = clock.now();
      const auth = await authenticateApiKey(t.server.ctx, created.body.key);
      expect(auth?.key.id).toBe(created.body.id);
      expect(auth?.service.id).toBe(svc);
      // Not written per request.
      expect((await view())!.last_used_at).toBeNull();
      const [raw] = await queryRows(t, "SELECT last_used_at FROM api_keys WHERE id = ?", [
        created.body.id,
      ]);
      expect(raw?.last_used_at).toBeNull();

      await t.server.ctx.keyUsage.flush(t.server.ctx.database);
      const after = await view();
      expect(after!.last_used_at).toMatch(ISO_MS);
      expect(after!.last_used_at).toBe(iso(usedAt));

      // Within the minute it is not rewritten; after it, it is.
      clock.advance(30_000);
      await authenticateApiKey(t.server.ctx, created.body.key);
      await t.server.ctx.keyUsage.flush(t.server.ctx.database);
      expect((await view())!.last_used_at).toBe(iso(usedAt));
      clock.advance(60_000);
      await authenticateApiKey(t.server.ctx, created.body.key);
      await t.server.ctx.keyUsage.flush(t.server.ctx.database);
      expect((await view())!.last_used_at).toBe(iso(clock.now()));
    });

    test("a rejected key is not recorded as used", async () => {
      const svc = await freshService();
      const path = `/v1/services/${svc}/keys`;
      const created = await owner.post<ApiKeyCreated>(path, {});
      await owner.delete<ApiKey>(`${path}/${created.body.id}`);
      expect(await authenticateApiKey(t.server.ctx, created.body.key)).toBeNull();
      await t.server.ctx.keyUsage.flush(t.server.ctx.database);
      expect((await owner.get<ApiKeyList>(path)).body.keys[0]!.last_used_at).toBeNull();
    });
  });

  describe("authenticateApiKey", () => {
    test("returns the key and its service for a valid key", async () => {
      const created = await owner.post<ApiKeyCreated>(keysPath, {});
      const auth = await authenticateApiKey(t.server.ctx, created.body.key);
      expect(auth).not.toBeNull();
      expect(auth?.key.id).toBe(created.body.id);
      expect(auth?.service.id).toBe(serviceId);
      await owner.delete<ApiKey>(`${keysPath}/${created.body.id}`);
    });

    test("rejects garbage, PATs, bad checksums, unknown keys and near misses", async () => {
      const created = await owner.post<ApiKeyCreated>(keysPath, {});
      const key: string = created.body.key;
      const pat = await owner.post<TokenCreated>("/v1/auth/tokens", { name: "not a service key" });
      expect(pat.status).toBe(201);
      const patToken: string = pat.body.token;
      expect(patToken.startsWith("sgl_pat_")).toBe(true);

      const body = key.slice("sgl_sk_prod_".length, -6);
      const badChecksum = `sgl_sk_prod_${body}${key.endsWith("000000") ? "000001" : "000000"}`;
      expect(badChecksum).toMatch(KEY_RE);
      expect(hasValidChecksum(badChecksum)).toBe(false);

      const unknown = mintSecret("sgl_sk_prod_");
      expect(unknown).toMatch(KEY_RE);
      expect(hasValidChecksum(unknown)).toBe(true);

      const candidates = [
        "",
        "garbage",
        "sgl_sk_",
        "sgl_sk_prod_",
        `Bearer ${key}`,
        ` ${key}`,
        `${key} `,
        `${key}x`,
        key.slice(0, -1),
        key.toUpperCase(),
        key.replace("sgl_sk_prod_", "sgl_sk_test_"),
        key.replace("sgl_sk_prod_", "sgl_sk_dev_"),
        sha256(key),
        created.body.prefix,
        patToken,
        badChecksum,
        unknown,
        "x".repeat(10_000),
        "sgl_sk_prod_' OR '1'='1",
      ];
      for (const candidate of candidates) {
        expect(await authenticateApiKey(t.server.ctx, candidate)).toBeNull();
      }
      expect(await authenticateApiKey(t.server.ctx, key)).not.toBeNull();
      await owner.delete<ApiKey>(`${keysPath}/${created.body.id}`);
    });

    test("a key from a deleted service is rejected", async () => {
      const svc = await freshService();
      const created = await owner.post<ApiKeyCreated>(`/v1/services/${svc}/keys`, {});
      expect(await authenticateApiKey(t.server.ctx, created.body.key)).not.toBeNull();
      expect((await owner.delete<Deleted>(`/v1/services/${svc}`)).status).toBe(200);
      expect(await authenticateApiKey(t.server.ctx, created.body.key)).toBeNull();
      expect(await count(t, "api_keys", "id = ?", [created.body.id])).toBe(0);
    });
  });

  describe("active key limit", () => {
    let limited: TestServer;
    beforeAll(async () => {
      limited = await startTestServer({ env: { SIGILUM_MAX_KEYS_PER_SERVICE: "2" } });
    });
    afterAll(() => limited.close());

    test("→ 409 LIMIT_REACHED; revoking one frees a slot; rolling at the limit works", async () => {
      const { client, service } = await ownerWithService(limited);
      const path = `/v1/services/${service.id}/keys`;
      const a = await client.post<ApiKeyCreated>(path, {});
      const b = await client.post<ApiKeyCreated>(path, {});
      expect(a.status).toBe(201);
      expect(b.status).toBe(201);
      const over = await client.post<ApiErrorBody>(path, {});
      expectError(over, 409, "LIMIT_REACHED");
      expect(await count(limited, "api_keys", "service_id = ?", [service.id])).toBe(2);

      // Rolling replaces a key, so it is allowed at the limit.
      const rolled = await client.post<ApiKeyCreated>(`${path}/${a.body.id}/roll`, {
        grace_seconds: 0,
      });
      expect(rolled.status).toBe(201);
      expectError(await client.post<ApiErrorBody>(path, {}), 409, "LIMIT_REACHED");

      expect((await client.delete<ApiKey>(`${path}/${b.body.id}`)).status).toBe(200);
      const again = await client.post<ApiKeyCreated>(path, {});
      expect(again.status).toBe(201);
      expect(await authenticateApiKey(limited.server.ctx, again.body.key)).not.toBeNull();
      expectError(await client.post<ApiErrorBody>(path, {}), 409, "LIMIT_REACHED");

      // The limit is per service.
      const other = await client.post<Service>("/v1/services", {
        slug: uniqueName("lim"),
        name: "Other",
      });
      expect(
        (await client.post<ApiKeyCreated>(`/v1/services/${other.body.id}/keys`, {})).status,
      ).toBe(201);
    });

    test("rolling with grace at the limit keeps both working; the old counts until it ends", async () => {
      const { client, service } = await signUp(limited).then(async (o) => {
        const s = await o.client.post<Service>("/v1/services", {
          slug: uniqueName("lg"),
          name: "G",
        });
        return { client: o.client, service: s.body };
      });
      const path = `/v1/services/${service.id}/keys`;
      const a = await client.post<ApiKeyCreated>(path, {});
      await client.post<ApiKeyCreated>(path, {});
      const rolled = await client.post<ApiKeyCreated>(`${path}/${a.body.id}/roll`, {
        grace_seconds: 60,
      });
      expect(rolled.status).toBe(201);
      expect(await authenticateApiKey(limited.server.ctx, a.body.key)).not.toBeNull();
      expect(await authenticateApiKey(limited.server.ctx, rolled.body.key)).not.toBeNull();
      // Three active keys now (one in its grace), so no new key can be created.
      expectError(await client.post<ApiErrorBody>(path, {}), 409, "LIMIT_REACHED");
    });
  });
});
