import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { webhooks } from "../../src/db/schema.ts";
import { liveSecrets } from "../../src/webhooks/service.ts";
import { expectError, expectValidation, ISO_MS } from "../helpers/assertions.ts";
import { count, queryRows } from "../helpers/rows.ts";
import {
  type ApiClient,
  ManualClock,
  ownerWithService,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import type {
  ApiErrorBody,
  Deleted,
  RotatedSecret,
  Service,
  Webhook,
  WebhookCreated,
  WebhookList,
} from "../helpers/types.ts";

const WHSEC_RE = /^whsec_[A-Za-z0-9+/]{43}=$/;
const PUBLIC_IP = "93.184.216.34";
const DAY_MS = 86_400_000;
const SEED_EVENTS = [
  "request.submitted",
  "request.approved",
  "request.rejected",
  "request.revoked",
];

/** Test resolver: a few special names, everything else resolves to one public address. */
const resolved: string[] = [];
async function resolveHost(host: string): Promise<string[]> {
  resolved.push(host);
  if (host === "rebind.example.com") return [PUBLIC_IP, "10.0.0.7"];
  if (host === "private.example.com") return ["10.0.0.7"];
  if (host === "v6private.example.com") return ["fd00::1"];
  if (host === "mapped.example.com") return ["::ffff:127.0.0.1"];
  if (host === "nxdomain.example.com") throw new Error("ENOTFOUND");
  return [PUBLIC_IP];
}

async function webhookRow(t: TestServer, id: string) {
  const [row] = await t.server.ctx.database.db.select().from(webhooks).where(eq(webhooks.id, id));
  if (!row) throw new Error(`no webhook row ${id}`);
  return row;
}

describe("webhook routes", () => {
  const clock = new ManualClock();
  let t: TestServer;
  let owner: ApiClient;
  let serviceId: string;
  let hooksPath: string;

  beforeAll(async () => {
    t = await startTestServer({ clock, resolveHost });
    const o = await ownerWithService(t);
    owner = o.client;
    serviceId = o.service.id;
    hooksPath = `/v1/services/${serviceId}/webhooks`;
  });
  afterAll(() => t.close());

  /** A fresh service per scenario keeps the per-service limit (10) out of the way. */
  async function freshService(): Promise<string> {
    const res = await owner.post<Service>("/v1/services", {
      slug: uniqueName("hooks"),
      name: "Hooks",
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function createHook(svc: string, body: Record<string, unknown> = {}) {
    const res = await owner.post<WebhookCreated>(`/v1/services/${svc}/webhooks`, {
      url: `https://hooks.example.com/${uniqueName("h")}`,
      ...body,
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  describe("create", () => {
    test("201 with id, secret and the Webhook shape", async () => {
      const svc = await freshService();
      const res = await owner.post<WebhookCreated>(`/v1/services/${svc}/webhooks`, {
        url: "https://hooks.example.com/sigilum",
        events: ["request.approved"],
        description: "  Main receiver  ",
      });
      expect(res.status).toBe(201);
      expect(Object.keys(res.body).sort()).toEqual(
        [
          "consecutive_failures",
          "created_at",
          "description",
          "disabled_reason",
          "enabled",
          "events",
          "id",
          "last_failure_at",
          "last_success_at",
          "secret",
          "secret_rotated_at",
          "service_id",
          "updated_at",
          "url",
        ].sort(),
      );
      expect(res.body.id).toMatch(/^wh_[0-9A-Za-z]{20}$/);
      expect(res.body.secret).toMatch(WHSEC_RE);
      expect(Buffer.from(res.body.secret.slice("whsec_".length), "base64")).toHaveLength(32);
      expect(res.body).toMatchObject({
        service_id: svc,
        url: "https://hooks.example.com/sigilum",
        events: ["request.approved"],
        description: "Main receiver",
        enabled: true,
        disabled_reason: null,
        last_success_at: null,
        last_failure_at: null,
        consecutive_failures: 0,
        secret_rotated_at: null,
      });
      expect(res.body.created_at).toMatch(ISO_MS);
      expect(res.body.updated_at).toBe(res.body.created_at);
      expect((await owner.get<Service>(`/v1/services/${svc}`)).body.webhook_count).toBe(1);
    });

    test("events omitted → the four seed events; request.expired is accepted", async () => {
      const svc = await freshService();
      const plain = await createHook(svc);
      expect(plain.events).toEqual(SEED_EVENTS);
      const all = await createHook(svc, { events: [...SEED_EVENTS, "request.expired"] });
      expect(all.events).toEqual([...SEED_EVENTS, "request.expired"]);
      const expiredOnly = await createHook(svc, { events: ["request.expired"] });
      expect(expiredOnly.events).toEqual(["request.expired"]);
    });

    test.each([
      ["unknown event", ["request.bogus"], "events.0"],
      ["unknown second event", ["request.approved", "claim.approved"], "events.1"],
      ["webhook.test (sent only by the test route)", ["webhook.test"], "events.0"],
      ["wrong case", ["Request.Approved"], "events.0"],
      ["duplicate", ["request.approved", "request.approved"], "events.1"],
      ["empty array", [], "events"],
      ["too many", [...SEED_EVENTS, "request.expired", "request.approved"], "events"],
      ["not strings", [1], "events.0"],
    ])("events: %s → 400 VALIDATION_ERROR", async (_label, events, field) => {
      const before = await count(t, "webhooks");
      const res = await owner.post<ApiErrorBody>(hooksPath, {
        url: "https://hooks.example.com/e",
        events,
      });
      expectValidation(res, field);
      expect(await count(t, "webhooks")).toBe(before);
    });

    test("events: null → 400", async () => {
      expectValidation(
        await owner.post<ApiErrorBody>(hooksPath, {
          url: "https://hooks.example.com/e",
          events: null,
        }),
        "events",
      );
    });

    test("description ≤ 1000 characters; url is required", async () => {
      const svc = await freshService();
      const ok = await createHook(svc, { description: "d".repeat(1000) });
      expect(ok.description).toHaveLength(1000);
      expectValidation(
        await owner.post<ApiErrorBody>(`/v1/services/${svc}/webhooks`, {
          url: "https://hooks.example.com/x",
          description: "d".repeat(1001),
        }),
        "description",
      );
      expectValidation(await owner.post<ApiErrorBody>(`/v1/services/${svc}/webhooks`, {}), "url");
    });

    test("the URL is normalised", async () => {
      const svc = await freshService();
      const hook = await createHook(svc, { url: "  HTTPS://Hooks.EXAMPLE.com:443/a/../b?x=1  " });
      expect(hook.url).toBe("https://hooks.example.com/b?x=1");
    });
  });

  describe("the secret is shown once and encrypted at rest", () => {
    test("never in list, get, patch, delete; not in the database in the clear; liveSecrets decrypts it", async () => {
      const svc = await freshService();
      const path = `/v1/services/${svc}/webhooks`;
      const created = await createHook(svc);
      const secret: string = created.secret;
      const secretBody = secret.slice("whsec_".length);

      const list = await owner.get<WebhookList>(path);
      expect(list.status).toBe(200);
      expect("secret" in list.body.webhooks[0]!).toBe(false);
      expect(JSON.stringify(list.body)).not.toContain(secretBody);

      const got = await owner.get<Webhook>(`${path}/${created.id}`);
      expect(got.status).toBe(200);
      expect("secret" in got.body).toBe(false);
      const { secret: _s, ...view } = created;
      expect(got.body).toEqual(view);

      const patched = await owner.patch<Webhook>(`${path}/${created.id}`, { description: "x" });
      expect(patched.status).toBe(200);
      expect("secret" in patched.body).toBe(false);
      expect(JSON.stringify(patched.body)).not.toContain(secretBody);

      const [raw] = await queryRows(t, "SELECT * FROM webhooks WHERE id = ?", [created.id]);
      expect(raw).toBeDefined();
      expect(JSON.stringify(raw)).not.toContain(secretBody);
      expect(JSON.stringify(raw)).not.toContain(secret);
      // AES-256-GCM: 12-byte IV + ciphertext as long as the secret + 16-byte tag.
      const sealed = Buffer.from(String(raw?.secret_ciphertext), "base64");
      expect(sealed).toHaveLength(12 + Buffer.byteLength(secret) + 16);
      expect(sealed.includes(Buffer.from(secret))).toBe(false);
      expect(raw?.secret_key_id).toBe(t.server.ctx.secretBox.keyId);

      const row = await webhookRow(t, created.id);
      expect(liveSecrets(t.server.ctx, row)).toEqual([secret]);

      // The ciphertext is authenticated: a flipped byte does not decrypt.
      const tampered = Buffer.from(sealed);
      tampered[20] = tampered[20]! ^ 0x01;
      expect(() =>
        liveSecrets(t.server.ctx, { ...row, secretCiphertext: tampered.toString("base64") }),
      ).toThrow();

      // Two webhooks never share a secret or a ciphertext.
      const other = await createHook(svc);
      expect(other.secret).not.toBe(secret);
      const otherRow = await webhookRow(t, other.id);
      expect(otherRow.secretCiphertext).not.toBe(row.secretCiphertext);

      // The database files on disk and the logs do not hold it either.
      for (const file of readdirSync(t.dataDir)) {
        expect(readFileSync(join(t.dataDir, file)).includes(Buffer.from(secretBody))).toBe(false);
      }
      expect(t.logs.join("\n")).not.toContain(secretBody);

      const deleted = await owner.delete<Deleted>(`${path}/${created.id}`);
      expect(JSON.stringify(deleted.body)).not.toContain(secretBody);
    });
  });

  describe("get, patch, delete", () => {
    test("PATCH url, events, description; updated_at moves", async () => {
      const svc = await freshService();
      const hook = await createHook(svc, { description: "old" });
      const path = `/v1/services/${svc}/webhooks/${hook.id}`;
      clock.advance(1_000);
      const res = await owner.patch<Webhook>(path, {
        url: "https://receiver.example.org/new",
        events: ["request.expired", "request.approved"],
        description: "new",
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: hook.id,
        url: "https://receiver.example.org/new",
        events: ["request.expired", "request.approved"],
        description: "new",
        enabled: true,
        created_at: hook.created_at,
      });
      expect(Date.parse(res.body.updated_at) - Date.parse(hook.created_at)).toBe(1_000);
      expect((await owner.get<Webhook>(path)).body).toEqual(res.body);
      expect(resolved).toContain("receiver.example.org");

      const cleared = await owner.patch<Webhook>(path, { description: null });
      expect(cleared.status).toBe(200);
      expect(cleared.body.description).toBeNull();
      expect(cleared.body.events).toEqual(["request.expired", "request.approved"]);
      // The secret survives edits.
      expect(liveSecrets(t.server.ctx, await webhookRow(t, hook.id))).toEqual([hook.secret]);
    });

    test("enabled false → disabled_reason manual; true → null", async () => {
      const svc = await freshService();
      const hook = await createHook(svc);
      const path = `/v1/services/${svc}/webhooks/${hook.id}`;
      const off = await owner.patch<Webhook>(path, { enabled: false });
      expect(off.status).toBe(200);
      expect(off.body).toMatchObject({ enabled: false, disabled_reason: "manual" });
      expect((await owner.get<Webhook>(path)).body).toMatchObject({
        enabled: false,
        disabled_reason: "manual",
      });
      const [raw] = await queryRows(
        t,
        "SELECT enabled, disabled_reason FROM webhooks WHERE id = ?",
        [hook.id],
      );
      expect(Number(raw?.enabled)).toBe(0);
      expect(raw?.disabled_reason).toBe("manual");

      const stillOff = await owner.patch<Webhook>(path, { enabled: false });
      expect(stillOff.body).toMatchObject({ enabled: false, disabled_reason: "manual" });

      const on = await owner.patch<Webhook>(path, { enabled: true });
      expect(on.status).toBe(200);
      expect(on.body).toMatchObject({
        enabled: true,
        disabled_reason: null,
        consecutive_failures: 0,
      });
      expect((await owner.get<Webhook>(path)).body).toMatchObject({
        enabled: true,
        disabled_reason: null,
      });
    });

    test("a webhook disabled by failures is re-enabled with its reason and failure count cleared", async () => {
      const svc = await freshService();
      const hook = await createHook(svc);
      await t.server.ctx.database.client.execute({
        sql: "UPDATE webhooks SET enabled = 0, disabled_reason = 'failing', consecutive_failures = 12 WHERE id = ?",
        args: [hook.id],
      });
      const path = `/v1/services/${svc}/webhooks/${hook.id}`;
      expect((await owner.get<Webhook>(path)).body).toMatchObject({
        enabled: false,
        disabled_reason: "failing",
        consecutive_failures: 12,
      });
      const on = await owner.patch<Webhook>(path, { enabled: true });
      expect(on.body).toMatchObject({
        enabled: true,
        disabled_reason: null,
        consecutive_failures: 0,
      });
      expect((await owner.get<Webhook>(path)).body).toMatchObject({
        enabled: true,
        disabled_reason: null,
        consecutive_failures: 0,
      });
    });

    test("PATCH {} and invalid fields → 400; the webhook is unchanged", async () => {
      const svc = await freshService();
      const hook = await createHook(svc);
      const path = `/v1/services/${svc}/webhooks/${hook.id}`;
      const before = (await owner.get<Webhook>(path)).body;
      expectValidation(await owner.patch<ApiErrorBody>(path, {}));
      expectValidation(await owner.patch<ApiErrorBody>(path, { events: [] }), "events");
      expectValidation(await owner.patch<ApiErrorBody>(path, { events: ["nope"] }), "events.0");
      expectValidation(
        await owner.patch<ApiErrorBody>(path, { events: ["request.approved", "request.approved"] }),
        "events.1",
      );
      expectValidation(await owner.patch<ApiErrorBody>(path, { enabled: "yes" }), "enabled");
      expectValidation(await owner.patch<ApiErrorBody>(path, { secret: "whsec_mine" }), "secret");
      expectValidation(
        await owner.patch<ApiErrorBody>(path, { service_id: serviceId }),
        "service_id",
      );
      expectValidation(
        await owner.patch<ApiErrorBody>(path, { description: "d".repeat(1001) }),
        "description",
      );
      // An invalid field alongside a valid one changes nothing.
      expectValidation(
        await owner.patch<ApiErrorBody>(path, { description: "changed", events: ["bogus"] }),
        "events.0",
      );
      expectError(
        await owner.patch<ApiErrorBody>(path, {
          description: "changed",
          url: "https://127.0.0.1/",
        }),
        400,
        "INVALID_WEBHOOK_URL",
      );
      expect((await owner.get<Webhook>(path)).body).toEqual(before);
    });

    test("GET/PATCH/DELETE/rotate of an unknown webhook → 404", async () => {
      const missing = `${hooksPath}/wh_00000000000000000000`;
      expectError(await owner.get<ApiErrorBody>(missing), 404, "NOT_FOUND");
      expectError(await owner.patch<ApiErrorBody>(missing, { enabled: false }), 404, "NOT_FOUND");
      expectError(await owner.delete<ApiErrorBody>(missing), 404, "NOT_FOUND");
      expectError(await owner.post<ApiErrorBody>(`${missing}/rotate-secret`, {}), 404, "NOT_FOUND");
      expectError(await owner.get<ApiErrorBody>(`${hooksPath}/not-an-id`), 404, "NOT_FOUND");
    });

    test("a webhook of another service of the same owner is not found under this one", async () => {
      const svcA = await freshService();
      const svcB = await freshService();
      const hook = await createHook(svcA);
      const wrong = `/v1/services/${svcB}/webhooks/${hook.id}`;
      expectError(await owner.get<ApiErrorBody>(wrong), 404, "NOT_FOUND");
      expectError(await owner.patch<ApiErrorBody>(wrong, { enabled: false }), 404, "NOT_FOUND");
      expectError(await owner.delete<ApiErrorBody>(wrong), 404, "NOT_FOUND");
      expectError(await owner.post<ApiErrorBody>(`${wrong}/rotate-secret`, {}), 404, "NOT_FOUND");
      expect(
        (await owner.get<Webhook>(`/v1/services/${svcA}/webhooks/${hook.id}`)).body.enabled,
      ).toBe(true);
    });

    test("DELETE → {id, deleted: true}; the row is gone", async () => {
      const svc = await freshService();
      const hook = await createHook(svc);
      const path = `/v1/services/${svc}/webhooks/${hook.id}`;
      const res = await owner.delete<Deleted>(path);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ id: hook.id, deleted: true });
      expect(await count(t, "webhooks", "id = ?", [hook.id])).toBe(0);
      expectError(await owner.get<ApiErrorBody>(path), 404, "NOT_FOUND");
      expectError(await owner.delete<ApiErrorBody>(path), 404, "NOT_FOUND");
      expect((await owner.get<Service>(`/v1/services/${svc}`)).body.webhook_count).toBe(0);
    });

    test("list pagination", async () => {
      const svc = await freshService();
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await createHook(svc)).id);
      const path = `/v1/services/${svc}/webhooks`;
      const page = await owner.get<WebhookList>(`${path}?limit=2`);
      expect(page.status).toBe(200);
      expect(page.body.webhooks).toHaveLength(2);
      expect(page.body.pagination).toEqual({ limit: 2, offset: 0, total: 3, has_more: true });
      const rest = await owner.get<WebhookList>(`${path}?limit=2&offset=2`);
      expect(rest.body.pagination).toEqual({ limit: 2, offset: 2, total: 3, has_more: false });
      const all = [...page.body.webhooks, ...rest.body.webhooks].map((w: { id: string }) => w.id);
      expect(all.sort()).toEqual(ids.sort());
      for (const q of ["limit=0", "limit=201", "limit=abc", "offset=-1", "status=active"]) {
        expectValidation(await owner.get<ApiErrorBody>(`${path}?${q}`));
      }
    });
  });

  describe("rotate-secret", () => {
    test("default grace: 86400 s; both secrets live during it, only the new one after", async () => {
      const svc = await freshService();
      const hook = await createHook(svc);
      const path = `/v1/services/${svc}/webhooks/${hook.id}`;
      clock.advance(1_000);
      const rotatedAt = clock.now();
      const res = await owner.post<RotatedSecret>(`${path}/rotate-secret`, {});
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(["previous_secret_expires_at", "secret"]);
      expect(res.body.secret).toMatch(WHSEC_RE);
      expect(res.body.secret).not.toBe(hook.secret);
      expect(res.body.previous_secret_expires_at).toBe(new Date(rotatedAt + DAY_MS).toISOString());

      const view = await owner.get<Webhook>(path);
      expect("secret" in view.body).toBe(false);
      expect(view.body.secret_rotated_at).toBe(new Date(rotatedAt).toISOString());
      const list = await owner.get<WebhookList>(`/v1/services/${svc}/webhooks`);
      const listed = JSON.stringify(list.body);
      for (const s of [hook.secret, res.body.secret]) {
        expect(listed).not.toContain(s.slice(6));
        expect(JSON.stringify(view.body)).not.toContain(s.slice(6));
      }
      const [raw] = await queryRows(t, "SELECT * FROM webhooks WHERE id = ?", [hook.id]);
      expect(JSON.stringify(raw)).not.toContain(res.body.secret.slice(6));
      expect(JSON.stringify(raw)).not.toContain(hook.secret.slice(6));

      expect(liveSecrets(t.server.ctx, await webhookRow(t, hook.id))).toEqual([
        res.body.secret,
        hook.secret,
      ]);
      clock.advance(DAY_MS - 1);
      expect(liveSecrets(t.server.ctx, await webhookRow(t, hook.id))).toEqual([
        res.body.secret,
        hook.secret,
      ]);
      clock.advance(1);
      expect(liveSecrets(t.server.ctx, await webhookRow(t, hook.id))).toEqual([res.body.secret]);
    });

    test("also works with no body at all", async () => {
      const svc = await freshService();
      const hook = await createHook(svc);
      const res = await owner.post<RotatedSecret>(
        `/v1/services/${svc}/webhooks/${hook.id}/rotate-secret`,
      );
      expect(res.status).toBe(200);
      expect(res.body.previous_secret_expires_at).toBe(
        new Date(clock.now() + DAY_MS).toISOString(),
      );
    });

    test("grace_seconds: 0 → previous_secret_expires_at null; only the new secret signs", async () => {
      const svc = await freshService();
      const hook = await createHook(svc);
      const res = await owner.post<RotatedSecret>(
        `/v1/services/${svc}/webhooks/${hook.id}/rotate-secret`,
        {
          grace_seconds: 0,
        },
      );
      expect(res.status).toBe(200);
      expect(res.body.previous_secret_expires_at).toBeNull();
      expect(liveSecrets(t.server.ctx, await webhookRow(t, hook.id))).toEqual([res.body.secret]);
      const [raw] = await queryRows(
        t,
        "SELECT previous_secret_ciphertext, previous_secret_expires_at FROM webhooks WHERE id = ?",
        [hook.id],
      );
      expect(raw?.previous_secret_ciphertext).toBeNull();
      expect(raw?.previous_secret_expires_at).toBeNull();
    });

    test("rotating twice within the grace keeps only the latest previous secret", async () => {
      const svc = await freshService();
      const hook = await createHook(svc);
      const path = `/v1/services/${svc}/webhooks/${hook.id}/rotate-secret`;
      const first = await owner.post<RotatedSecret>(path, { grace_seconds: 600 });
      clock.advance(1_000);
      const second = await owner.post<RotatedSecret>(path, { grace_seconds: 60 });
      expect(second.body.previous_secret_expires_at).toBe(
        new Date(clock.now() + 60_000).toISOString(),
      );
      expect(liveSecrets(t.server.ctx, await webhookRow(t, hook.id))).toEqual([
        second.body.secret,
        first.body.secret,
      ]);
      clock.advance(60_000);
      expect(liveSecrets(t.server.ctx, await webhookRow(t, hook.id))).toEqual([second.body.secret]);
    });

    test("grace bounds: 604800 ok; 604801, -1, 2.5, extra field → 400 and nothing rotates", async () => {
      const svc = await freshService();
      const hook = await createHook(svc);
      const path = `/v1/services/${svc}/webhooks/${hook.id}/rotate-secret`;
      for (const body of [
        { grace_seconds: 604_801 },
        { grace_seconds: -1 },
        { grace_seconds: 2.5 },
        { grace_seconds: null },
        { grace: 60 },
      ]) {
        expectValidation(await owner.post<ApiErrorBody>(path, body));
      }
      expect(liveSecrets(t.server.ctx, await webhookRow(t, hook.id))).toEqual([hook.secret]);
      const ok = await owner.post<RotatedSecret>(path, { grace_seconds: 604_800 });
      expect(ok.status).toBe(200);
      expect(ok.body.previous_secret_expires_at).toBe(
        new Date(clock.now() + 604_800_000).toISOString(),
      );
    });
  });

  describe("SSRF: target URL rules at create and PATCH time", () => {
    let svc: string;
    let existing: { id: string; url: string };

    beforeAll(async () => {
      svc = await freshService();
      existing = await createHook(svc);
    });

    const cases: [string, string, RegExp][] = [
      [
        "http without SIGILUM_WEBHOOK_ALLOW_HTTP",
        "http://x.example.com/",
        /https.*SIGILUM_WEBHOOK_ALLOW_HTTP/,
      ],
      ["credentials", "https://user:pw@x.example.com/", /credentials/],
      ["user only", "https://user@x.example.com/", /credentials/],
      ["localhost", "https://localhost/", /localhost/],
      ["sub.localhost", "https://app.localhost/", /not allowed/],
      [".internal", "https://foo.internal/", /foo\.internal.*not allowed/],
      [".local", "https://printer.local/", /printer\.local.*not allowed/],
      ["trailing-dot .local", "https://printer.local./", /not allowed/],
      ["127.0.0.1", "https://127.0.0.1/", /127\.0\.0\.1.*loopback/],
      ["IPv4-mapped dotted", "https://[::ffff:127.0.0.1]/", /loopback/],
      ["IPv4-mapped hex", "https://[::ffff:7f00:1]/", /loopback/],
      ["hex short form", "https://0x7f.1/", /loopback/],
      ["decimal integer", "https://2130706433/", /loopback/],
      ["short dotted", "https://127.1/", /loopback/],
      ["octal", "https://0177.0.0.1/", /loopback/],
      ["10/8", "https://10.1.2.3/", /10\.1\.2\.3.*private/],
      ["172.16/12", "https://172.16.5.4/", /private/],
      ["192.168/16", "https://192.168.1.1/", /private/],
      ["metadata endpoint", "https://169.254.169.254/latest/meta-data/", /link-local/],
      ["CGNAT", "https://100.64.0.1/", /carrier-grade NAT/],
      ["0.0.0.0", "https://0.0.0.0/", /this network/],
      ["IPv6 loopback", "https://[::1]/", /loopback/],
      ["IPv6 unique local", "https://[fd00::1]/", /unique local/],
      ["IPv6 link-local", "https://[fe80::1]/", /link-local/],
      ["NAT64 of loopback", "https://[64:ff9b::7f00:1]/", /NAT64/],
      ["6to4 of private", "https://[2002:0a00:0001::]/", /6to4/],
      ["2049 characters", `https://x.example.com/${"a".repeat(2049 - 22)}`, /2048/],
      ["not a url", "not a url", /absolute URL/],
      ["relative", "/webhooks/sigilum", /absolute URL/],
      ["ftp", "ftp://x.example.com/", /https/],
      ["javascript", "javascript:alert(1)", /https/],
      ["file", "file:///etc/passwd", /https/],
      ["empty", "", /absolute URL/],
      [
        "DNS answer mixing public and private",
        "https://rebind.example.com/hook",
        /rebind\.example\.com.*10\.0\.0\.7/,
      ],
      ["DNS answer private", "https://private.example.com/hook", /resolves to a blocked address/],
      ["DNS answer IPv6 private", "https://v6private.example.com/hook", /unique local/],
      ["DNS answer IPv4-mapped loopback", "https://mapped.example.com/hook", /loopback/],
    ];

    test("the 2049-character URL really is 2049 characters", () => {
      expect(cases.find(([label]) => label === "2049 characters")?.[1]).toHaveLength(2049);
    });

    test.each(cases)("%s → 400 INVALID_WEBHOOK_URL at create, no row", async (_label, url, why) => {
      const before = await count(t, "webhooks");
      const res = await owner.post<ApiErrorBody>(`/v1/services/${svc}/webhooks`, { url });
      expectError(res, 400, "INVALID_WEBHOOK_URL");
      expect(res.body.error).toMatch(why);
      expect(await count(t, "webhooks")).toBe(before);
    });

    test.each(cases)(
      "%s → 400 INVALID_WEBHOOK_URL at PATCH, URL unchanged",
      async (_label, url, why) => {
        const path = `/v1/services/${svc}/webhooks/${existing.id}`;
        const res = await owner.patch<ApiErrorBody>(path, { url });
        expectError(res, 400, "INVALID_WEBHOOK_URL");
        expect(res.body.error).toMatch(why);
        const [raw] = await queryRows(t, "SELECT url FROM webhooks WHERE id = ?", [existing.id]);
        expect(raw?.url).toBe(existing.url);
      },
    );

    test("private-address messages name the settings that would allow them", async () => {
      const res = await owner.post<ApiErrorBody>(`/v1/services/${svc}/webhooks`, {
        url: "https://10.1.2.3/",
      });
      expect(res.body.error).toContain("SIGILUM_WEBHOOK_ALLOW_PRIVATE");
      expect(res.body.error).toContain("SIGILUM_WEBHOOK_ALLOWED_CIDRS");
    });

    test("public literal addresses and resolvable public names are accepted", async () => {
      const fresh = await freshService();
      for (const url of [
        `https://${PUBLIC_IP}/hook`,
        "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
        "https://hooks.example.com:8443/hook",
      ]) {
        const res = await owner.post<WebhookCreated>(`/v1/services/${fresh}/webhooks`, { url });
        expect(res.status).toBe(201);
      }
    });
  });

  describe("settings", () => {
    test("SIGILUM_WEBHOOK_ALLOW_HTTP=true accepts http (public targets only)", async () => {
      const s = await startTestServer({ env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true" }, resolveHost });
      try {
        const { client, service } = await ownerWithService(s);
        const path = `/v1/services/${service.id}/webhooks`;
        const ok = await client.post<WebhookCreated>(path, {
          url: "http://hooks.example.com/plain",
        });
        expect(ok.status).toBe(201);
        expect(ok.body.url).toBe("http://hooks.example.com/plain");
        const patched = await client.patch<Webhook>(`${path}/${ok.body.id}`, {
          url: "http://other.example.com/p",
        });
        expect(patched.status).toBe(200);
        expect(patched.body.url).toBe("http://other.example.com/p");
        const priv = await client.post<ApiErrorBody>(path, { url: "http://127.0.0.1:9/x" });
        expectError(priv, 400, "INVALID_WEBHOOK_URL");
        expectError(
          await client.post<ApiErrorBody>(path, { url: "ftp://x.example.com/" }),
          400,
          "INVALID_WEBHOOK_URL",
        );
      } finally {
        await s.close();
      }
    });

    test("SIGILUM_WEBHOOK_ALLOW_PRIVATE=true (with allow http) accepts http://127.0.0.1:9/x", async () => {
      const s = await startTestServer({
        env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" },
        resolveHost,
      });
      try {
        const { client, service } = await ownerWithService(s);
        const path = `/v1/services/${service.id}/webhooks`;
        const ok = await client.post<WebhookCreated>(path, { url: "http://127.0.0.1:9/x" });
        expect(ok.status).toBe(201);
        expect(ok.body.url).toBe("http://127.0.0.1:9/x");
        expect((await client.post<WebhookCreated>(path, { url: "https://10.1.2.3/" })).status).toBe(
          201,
        );
        expect(
          (await client.post<WebhookCreated>(path, { url: "https://rebind.example.com/" })).status,
        ).toBe(201);
        // It lifts the host-name rule too (webhooks.md §5); credentials stay refused.
        expect(
          (await client.post<WebhookCreated>(path, { url: "https://localhost/" })).status,
        ).toBe(201);
        expectError(
          await client.post<ApiErrorBody>(path, { url: "https://u:p@x.example.com/" }),
          400,
          "INVALID_WEBHOOK_URL",
        );
      } finally {
        await s.close();
      }
    });

    test("SIGILUM_WEBHOOK_ALLOWED_CIDRS=10.0.0.0/8 allows that range only", async () => {
      const s = await startTestServer({
        env: { SIGILUM_WEBHOOK_ALLOWED_CIDRS: "10.0.0.0/8" },
        resolveHost,
      });
      try {
        const { client, service } = await ownerWithService(s);
        const path = `/v1/services/${service.id}/webhooks`;
        const ok = await client.post<WebhookCreated>(path, { url: "https://10.1.2.3/" });
        expect(ok.status).toBe(201);
        expect(
          (await client.post<WebhookCreated>(path, { url: "https://private.example.com/" })).status,
        ).toBe(201);
        expect(
          (await client.post<WebhookCreated>(path, { url: "https://rebind.example.com/" })).status,
        ).toBe(201);
        const denied = await client.post<ApiErrorBody>(path, { url: "https://192.168.1.1/" });
        expectError(denied, 400, "INVALID_WEBHOOK_URL");
        expect(denied.body.error).toContain("SIGILUM_WEBHOOK_ALLOWED_CIDRS");
        expectError(
          await client.post<ApiErrorBody>(path, { url: "https://127.0.0.1/" }),
          400,
          "INVALID_WEBHOOK_URL",
        );
        expectError(
          await client.post<ApiErrorBody>(path, { url: "http://10.1.2.3/" }),
          400,
          "INVALID_WEBHOOK_URL",
        );
        expect(await count(s, "webhooks")).toBe(3);
      } finally {
        await s.close();
      }
    });

    test("SIGILUM_MAX_WEBHOOKS_PER_SERVICE=1 → 409 LIMIT_REACHED; deleting frees the slot", async () => {
      const s = await startTestServer({
        env: { SIGILUM_MAX_WEBHOOKS_PER_SERVICE: "1" },
        resolveHost,
      });
      try {
        const { client, service } = await ownerWithService(s);
        const path = `/v1/services/${service.id}/webhooks`;
        const first = await client.post<WebhookCreated>(path, {
          url: "https://hooks.example.com/1",
        });
        expect(first.status).toBe(201);
        const second = await client.post<ApiErrorBody>(path, {
          url: "https://hooks.example.com/2",
        });
        expectError(second, 409, "LIMIT_REACHED");
        expect(await count(s, "webhooks", "service_id = ?", [service.id])).toBe(1);

        const other = await client.post<Service>("/v1/services", {
          slug: uniqueName("wl"),
          name: "Other",
        });
        expect(
          (
            await client.post<WebhookCreated>(`/v1/services/${other.body.id}/webhooks`, {
              url: "https://hooks.example.com/3",
            })
          ).status,
        ).toBe(201);

        expect((await client.delete<Deleted>(`${path}/${first.body.id}`)).status).toBe(200);
        expect(
          (await client.post<WebhookCreated>(path, { url: "https://hooks.example.com/2" })).status,
        ).toBe(201);
      } finally {
        await s.close();
      }
    });
  });
});
