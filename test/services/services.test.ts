import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { authenticateApiKey } from "../../src/services/apiKeys.ts";
import { expectError, expectValidation, ISO_MS, UUID_V4 } from "../helpers/assertions.ts";
import { count, queryRows } from "../helpers/rows.ts";
import {
  ApiClient,
  ManualClock,
  signUp,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import type {
  ApiErrorBody,
  ApiKey,
  ApiKeyCreated,
  Deleted,
  Service,
  ServiceList,
  WebhookCreated,
} from "../helpers/types.ts";

describe("services", () => {
  let t: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;

  beforeAll(async () => {
    t = await startTestServer();
    alice = (await signUp(t)).client;
    bob = (await signUp(t)).client;
  });
  afterAll(() => t.close());

  async function create(client: ApiClient, body: Record<string, unknown> = {}) {
    return client.post<Service>("/v1/services", {
      slug: uniqueName("svc"),
      name: "Service",
      ...body,
    });
  }

  describe("create", () => {
    test("201 with the Service shape", async () => {
      const slug = uniqueName("shape");
      const res = await alice.post<Service>("/v1/services", {
        slug,
        name: "Shape",
        description: "What it does",
      });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(
        [
          "active_key_count",
          "created_at",
          "description",
          "id",
          "name",
          "slug",
          "updated_at",
          "webhook_count",
        ].sort(),
      );
      expect(res.body.id).toMatch(UUID_V4);
      expect(res.body).toMatchObject({
        slug,
        name: "Shape",
        description: "What it does",
        active_key_count: 0,
        webhook_count: 0,
      });
      expect(res.body.created_at).toMatch(ISO_MS);
      expect(res.body.updated_at).toBe(res.body.created_at);

      const fetched = await alice.get<Service>(`/v1/services/${res.body.id}`);
      expect(fetched.status).toBe(200);
      expect(fetched.body).toEqual(res.body);
    });

    test("description is optional (null)", async () => {
      const res = await create(alice);
      expect(res.status).toBe(201);
      expect(res.body.description).toBeNull();
      const explicitNull = await create(alice, { description: null });
      expect(explicitNull.status).toBe(201);
      expect(explicitNull.body.description).toBeNull();
    });

    test("the slug is lower-cased", async () => {
      const slug = uniqueName("Mixed-CASE");
      const res = await alice.post<Service>("/v1/services", { slug, name: "Upper" });
      expect(res.status).toBe(201);
      expect(res.body.slug).toBe(slug.toLowerCase());
      const [row] = await queryRows(t, "SELECT slug FROM services WHERE id = ?", [res.body.id]);
      expect(row?.slug).toBe(slug.toLowerCase());
    });

    test.each([
      ["too short", "ab"],
      ["leading hyphen", "-abc"],
      ["trailing hyphen", "abc-"],
      ["underscore", "has_underscore"],
      ["space", "has space"],
      ["dot", "has.dot"],
      ["slash", "a/b/c"],
      ["non-ascii", "café-svc"],
      ["empty", ""],
      ["65 chars", "a".repeat(65)],
    ])("invalid slug (%s) → 400 VALIDATION_ERROR on slug", async (_label, slug) => {
      const before = await count(t, "services");
      const res = await alice.post<ApiErrorBody>("/v1/services", { slug, name: "Bad slug" });
      expectValidation(res, "slug");
      expect(await count(t, "services")).toBe(before);
    });

    test("64-character slug is accepted", async () => {
      const slug = `${uniqueName("long")}-${"x".repeat(64)}`.slice(0, 64).replace(/-$/, "x");
      const res = await alice.post<Service>("/v1/services", { slug, name: "Long" });
      expect(res.status).toBe(201);
      expect(res.body.slug).toBe(slug);
    });

    test("slug is globally unique across owners → 409 SLUG_TAKEN (case-insensitively)", async () => {
      const slug = uniqueName("taken");
      expect((await alice.post<Service>("/v1/services", { slug, name: "First" })).status).toBe(201);
      const same = await alice.post<ApiErrorBody>("/v1/services", { slug, name: "Again" });
      expectError(same, 409, "SLUG_TAKEN");
      const other = await bob.post<ApiErrorBody>("/v1/services", { slug, name: "Other owner" });
      expectError(other, 409, "SLUG_TAKEN");
      const upper = await bob.post<ApiErrorBody>("/v1/services", {
        slug: slug.toUpperCase(),
        name: "Upper",
      });
      expectError(upper, 409, "SLUG_TAKEN");
      expect(await count(t, "services", "slug = ?", [slug])).toBe(1);
    });

    test("name: 1–100 characters, trimmed; whitespace-only and 101 chars are rejected", async () => {
      const hundred = "n".repeat(100);
      const ok = await create(alice, { name: hundred });
      expect(ok.status).toBe(201);
      expect(ok.body.name).toBe(hundred);

      expectValidation(await create(alice, { name: "n".repeat(101) }), "name");
      expectValidation(await create(alice, { name: "" }), "name");
      expectValidation(await create(alice, { name: "   " }), "name");
      expectValidation(await create(alice, { name: "\t \t" }), "name");

      const trimmed = await create(alice, { name: "  Padded name  " });
      expect(trimmed.status).toBe(201);
      expect(trimmed.body.name).toBe("Padded name");
    });

    test("name is required; slug is required", async () => {
      expectValidation(
        await alice.post<ApiErrorBody>("/v1/services", { slug: uniqueName("noname") }),
        "name",
      );
      expectValidation(await alice.post<ApiErrorBody>("/v1/services", { name: "No slug" }), "slug");
    });

    test("description: at most 1000 characters", async () => {
      const ok = await create(alice, { description: "d".repeat(1000) });
      expect(ok.status).toBe(201);
      expect(ok.body.description).toHaveLength(1000);
      expectValidation(await create(alice, { description: "d".repeat(1001) }), "description");
    });
  });

  describe("per-owner limit", () => {
    let limited: TestServer;
    beforeAll(async () => {
      limited = await startTestServer({ env: { SIGILUM_MAX_SERVICES_PER_OWNER: "2" } });
    });
    afterAll(() => limited.close());

    test("→ 409 LIMIT_REACHED; other owners are not affected; deleting frees a slot", async () => {
      const { client: owner } = await signUp(limited);
      const first = await owner.post<Service>("/v1/services", {
        slug: uniqueName("l1"),
        name: "One",
      });
      const second = await owner.post<Service>("/v1/services", {
        slug: uniqueName("l2"),
        name: "Two",
      });
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      const slug = uniqueName("l3");
      const third = await owner.post<ApiErrorBody>("/v1/services", { slug, name: "Three" });
      expectError(third, 409, "LIMIT_REACHED");
      expect(await count(limited, "services", "slug = ?", [slug])).toBe(0);

      const { client: other } = await signUp(limited);
      expect(
        (await other.post<Service>("/v1/services", { slug: uniqueName("o1"), name: "Other" }))
          .status,
      ).toBe(201);

      expect((await owner.delete<Deleted>(`/v1/services/${first.body.id}`)).status).toBe(200);
      expect((await owner.post<Service>("/v1/services", { slug, name: "Three" })).status).toBe(201);
    });
  });

  describe("update", () => {
    test("PATCH name and description; updated_at moves; slug unchanged", async () => {
      const clock = new ManualClock();
      const timed = await startTestServer({ clock });
      try {
        const { client } = await signUp(timed);
        const created = await client.post<Service>("/v1/services", {
          slug: uniqueName("patch"),
          name: "Before",
          description: "Old",
        });
        clock.advance(5_000);
        const res = await client.patch<Service>(`/v1/services/${created.body.id}`, {
          name: "  After  ",
          description: "New",
        });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({
          id: created.body.id,
          slug: created.body.slug,
          name: "After",
          description: "New",
          created_at: created.body.created_at,
        });
        expect(Date.parse(res.body.updated_at) - Date.parse(created.body.created_at)).toBe(5_000);
      } finally {
        await timed.close();
      }
    });

    test("one field is enough; the other is kept", async () => {
      const created = await create(alice, { name: "Keep", description: "Kept" });
      const res = await alice.patch<Service>(`/v1/services/${created.body.id}`, {
        name: "Renamed",
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: "Renamed", description: "Kept" });
      const desc = await alice.patch<Service>(`/v1/services/${created.body.id}`, {
        description: "Only",
      });
      expect(desc.status).toBe(200);
      expect(desc.body).toMatchObject({ name: "Renamed", description: "Only" });
    });

    test("description: null clears it", async () => {
      const created = await create(alice, { description: "Soon gone" });
      const res = await alice.patch<Service>(`/v1/services/${created.body.id}`, {
        description: null,
      });
      expect(res.status).toBe(200);
      expect(res.body.description).toBeNull();
      const [row] = await queryRows(t, "SELECT description FROM services WHERE id = ?", [
        created.body.id,
      ]);
      expect(row?.description).toBeNull();
    });

    test("empty body {} → 400; slug → 400; invalid name → 400; nothing changes", async () => {
      const created = await create(alice, { name: "Stable", description: "Same" });
      const path = `/v1/services/${created.body.id}`;
      expectValidation(await alice.patch<ApiErrorBody>(path, {}));
      expectValidation(
        await alice.patch<ApiErrorBody>(path, { slug: uniqueName("new-slug") }),
        "slug",
      );
      expectValidation(
        await alice.patch<ApiErrorBody>(path, { slug: created.body.slug, name: "With slug" }),
        "slug",
      );
      expectValidation(await alice.patch<ApiErrorBody>(path, { name: "" }), "name");
      expectValidation(await alice.patch<ApiErrorBody>(path, { name: "  " }), "name");
      expectValidation(await alice.patch<ApiErrorBody>(path, { name: "x".repeat(101) }), "name");
      expectValidation(
        await alice.patch<ApiErrorBody>(path, { description: "x".repeat(1001) }),
        "description",
      );
      const after = await alice.get<Service>(path);
      expect(after.body).toEqual(created.body);
    });
  });

  describe("get", () => {
    test.each([
      ["non-UUID", "not-a-uuid"],
      ["numeric", "12345"],
      ["upper-case UUID of nothing", "0F8FAD5B-D9CB-469F-A165-70867728950E"],
      ["unknown UUID", "0f8fad5b-d9cb-469f-a165-70867728950e"],
      ["SQL-ish", "1' OR '1'='1"],
    ])("%s id → 404 NOT_FOUND", async (_label, id) => {
      const res = await alice.get<ApiErrorBody>(`/v1/services/${encodeURIComponent(id)}`);
      expectError(res, 404, "NOT_FOUND");
    });

    test("an over-long id → 4xx, never 500", async () => {
      const res = await alice.get<ApiErrorBody>(`/v1/services/${"a".repeat(500)}`);
      expect([400, 404]).toContain(res.status);
      expect(typeof res.body.code).toBe("string");
    });

    test("counts reflect active keys and webhooks", async () => {
      const created = await create(alice);
      const id = created.body.id;
      const k1 = await alice.post<ApiKeyCreated>(`/v1/services/${id}/keys`, {});
      await alice.post<ApiKeyCreated>(`/v1/services/${id}/keys`, {});
      await alice.post<WebhookCreated>(`/v1/services/${id}/webhooks`, {
        url: "https://hooks.example.com/a",
      });
      await alice.delete<ApiKey>(`/v1/services/${id}/keys/${k1.body.id}`);
      const res = await alice.get<ApiErrorBody>(`/v1/services/${id}`);
      expect(res.body).toMatchObject({ active_key_count: 1, webhook_count: 1 });
      const listed = await alice.get<ServiceList>("/v1/services?limit=200");
      const inList = listed.body.services.find((s: { id: string }) => s.id === id);
      expect(inList).toMatchObject({ active_key_count: 1, webhook_count: 1 });
    });
  });

  describe("delete", () => {
    test("→ {id, deleted: true}; keys and webhooks are gone; its key stops authenticating", async () => {
      const created = await create(alice);
      const id = created.body.id;
      const key = await alice.post<ApiKeyCreated>(`/v1/services/${id}/keys`, {});
      await alice.post<ApiKeyCreated>(`/v1/services/${id}/keys`, { environment: "test" });
      await alice.post<WebhookCreated>(`/v1/services/${id}/webhooks`, {
        url: "https://hooks.example.com/1",
      });
      await alice.post<WebhookCreated>(`/v1/services/${id}/webhooks`, {
        url: "https://hooks.example.com/2",
      });
      expect(await authenticateApiKey(t.server.ctx, key.body.key)).not.toBeNull();
      expect(await count(t, "api_keys", "service_id = ?", [id])).toBe(2);
      expect(await count(t, "webhooks", "service_id = ?", [id])).toBe(2);

      const res = await alice.delete<Deleted>(`/v1/services/${id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id, deleted: true });

      expect(await count(t, "services", "id = ?", [id])).toBe(0);
      expect(await count(t, "api_keys", "service_id = ?", [id])).toBe(0);
      expect(await count(t, "webhooks", "service_id = ?", [id])).toBe(0);
      expect(await authenticateApiKey(t.server.ctx, key.body.key)).toBeNull();

      expectError(await alice.get<ApiErrorBody>(`/v1/services/${id}`), 404, "NOT_FOUND");
      expectError(await alice.delete<ApiErrorBody>(`/v1/services/${id}`), 404, "NOT_FOUND");
      expectError(await alice.get<ApiErrorBody>(`/v1/services/${id}/keys`), 404, "NOT_FOUND");
      expectError(await alice.get<ApiErrorBody>(`/v1/services/${id}/webhooks`), 404, "NOT_FOUND");
    });

    test("the slug of a deleted service can be registered again", async () => {
      const created = await create(alice);
      await alice.delete<Deleted>(`/v1/services/${created.body.id}`);
      const again = await bob.post<Service>("/v1/services", {
        slug: created.body.slug,
        name: "Reuse",
      });
      expect(again.status).toBe(201);
      expect(again.body.id).not.toBe(created.body.id);
    });

    test("deleting one service leaves the owner's other services alone", async () => {
      const keep = await create(alice);
      const keepKey = await alice.post<ApiKeyCreated>(`/v1/services/${keep.body.id}/keys`, {});
      const drop = await create(alice);
      await alice.delete<Deleted>(`/v1/services/${drop.body.id}`);
      expect((await alice.get<Service>(`/v1/services/${keep.body.id}`)).status).toBe(200);
      expect(await authenticateApiKey(t.server.ctx, keepKey.body.key)).not.toBeNull();
    });
  });

  describe("list and pagination", () => {
    let carol: ApiClient;
    let ids: string[];

    beforeAll(async () => {
      carol = (await signUp(t)).client;
      ids = [];
      for (const n of [1, 2, 3]) {
        const res = await carol.post<Service>("/v1/services", {
          slug: uniqueName(`p${n}`),
          name: `P${n}`,
        });
        ids.push(res.body.id);
      }
    });

    test("defaults: limit 50, offset 0, everything of this owner only, newest first", async () => {
      const res = await carol.get<ServiceList>("/v1/services");
      expect(res.status).toBe(200);
      expect(res.body.pagination).toEqual({ limit: 50, offset: 0, total: 3, has_more: false });
      const listed: { id: string; created_at: string }[] = res.body.services;
      expect(listed.map((s) => s.id).sort()).toEqual([...ids].sort());
      // Newest first; ties within one millisecond broken by id, so pages are stable.
      const expected = [...listed].sort(
        (a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id),
      );
      expect(listed).toEqual(expected);
    });

    test("limit/offset/total/has_more", async () => {
      const page1 = await carol.get<ServiceList>("/v1/services?limit=2");
      expect(page1.status).toBe(200);
      expect(page1.body.services).toHaveLength(2);
      expect(page1.body.pagination).toEqual({ limit: 2, offset: 0, total: 3, has_more: true });

      const page2 = await carol.get<ServiceList>("/v1/services?limit=2&offset=2");
      expect(page2.body.services).toHaveLength(1);
      expect(page2.body.pagination).toEqual({ limit: 2, offset: 2, total: 3, has_more: false });

      const seen = [...page1.body.services, ...page2.body.services].map(
        (s: { id: string }) => s.id,
      );
      expect(new Set(seen).size).toBe(3);
      expect([...seen].sort()).toEqual([...ids].sort());

      const exact = await carol.get<ServiceList>("/v1/services?limit=3");
      expect(exact.body.pagination).toEqual({ limit: 3, offset: 0, total: 3, has_more: false });

      const beyond = await carol.get<ServiceList>("/v1/services?offset=10");
      expect(beyond.status).toBe(200);
      expect(beyond.body.services).toEqual([]);
      expect(beyond.body.pagination).toEqual({ limit: 50, offset: 10, total: 3, has_more: false });

      const max = await carol.get<ServiceList>("/v1/services?limit=200&offset=0");
      expect(max.status).toBe(200);
      expect(max.body.pagination.limit).toBe(200);
    });

    test.each([
      ["limit=0"],
      ["limit=201"],
      ["limit=abc"],
      ["limit=-1"],
      ["limit=1.5"],
      ["limit="],
      ["offset=-1"],
      ["offset=abc"],
      ["offset=1.5"],
      ["unknown=1"],
      ["status=active"],
    ])("?%s → 400 VALIDATION_ERROR", async (query) => {
      const res = await carol.get<ApiErrorBody>(`/v1/services?${query}`);
      expectValidation(res);
    });
  });

  describe("authentication", () => {
    test("no credentials → 401 UNAUTHORIZED on every service route", async () => {
      const anon = new ApiClient(t.url, t.origin);
      const svc = await create(alice);
      const id = svc.body.id;
      const calls = [
        anon.get<ServiceList>("/v1/services"),
        anon.post<Service>("/v1/services", { slug: uniqueName("anon"), name: "Anon" }),
        anon.get<Service>(`/v1/services/${id}`),
        anon.patch<Service>(`/v1/services/${id}`, { name: "Hijack" }),
        anon.delete<Deleted>(`/v1/services/${id}`),
      ];
      for (const res of await Promise.all(calls)) expectError(res, 401, "UNAUTHORIZED");
      const badCookie = new ApiClient(t.url, t.origin);
      badCookie.cookie = "not-a-session";
      expectError(await badCookie.get<ApiErrorBody>("/v1/services"), 401, "UNAUTHORIZED");
      const badBearer = new ApiClient(t.url, t.origin);
      badBearer.bearer = "sgl_pat_garbage";
      expectError(await badBearer.get<ApiErrorBody>(`/v1/services/${id}`), 401, "UNAUTHORIZED");
      expect((await alice.get<Service>(`/v1/services/${id}`)).body.name).toBe("Service");
    });
  });
});
