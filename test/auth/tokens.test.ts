import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  ApiClient,
  ManualClock,
  signUp,
  startTestServer,
  type TestServer,
} from "../helpers/server.ts";
import type {
  ApiErrorBody,
  ApiKeyCreated,
  Deleted,
  Service,
  TokenCreated,
  TokenList,
} from "../helpers/types.ts";
import { HOUR, ISO_MS, meWithBearer, rows, sha256Hex } from "./support.ts";

const PAT_ID = /^pat_[0-9A-Za-z]{20}$/;
const PAT = /^sgl_pat_[0-9A-Za-z]{38}$/;

interface TokenItem {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

describe("personal access tokens", () => {
  const clock = new ManualClock();
  let t: TestServer;
  let owner: Awaited<ReturnType<typeof signUp>>;
  let other: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    t = await startTestServer({ clock });
    owner = await signUp(t);
    other = await signUp(t);
  });
  afterAll(() => t.close());

  async function createToken(body: Record<string, unknown>, who = owner) {
    const res = await who.client.post<TokenCreated>("/v1/auth/tokens", body);
    expect(res.status).toBe(201);
    return res.body as TokenItem & { token: string };
  }

  test("create → 201 with id, name, token (shown once), prefix, created_at, expires_at", async () => {
    const res = await owner.client.post<TokenCreated>("/v1/auth/tokens", {
      name: "  deploy bot  ",
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(
      ["created_at", "expires_at", "id", "name", "prefix", "token"].sort(),
    );
    expect(res.body.id).toMatch(PAT_ID);
    expect(res.body.name).toBe("deploy bot");
    expect(res.body.token).toMatch(PAT);
    expect(res.body.prefix).toBe(res.body.token.slice(0, 16));
    expect(res.body.prefix).toStartWith("sgl_pat_");
    expect(res.body.created_at).toMatch(ISO_MS);
    expect(res.body.created_at).toBe(new Date(clock.now()).toISOString());
    expect(res.body.expires_at).toBeNull();

    const withExpiry = await createToken({
      name: "expiring",
      expires_at: new Date(clock.now() + 24 * HOUR).toISOString(),
    });
    expect(withExpiry.expires_at).toBe(new Date(clock.now() + 24 * HOUR).toISOString());
    expect(withExpiry.token).not.toBe(res.body.token);
    expect(withExpiry.id).not.toBe(res.body.id);
  });

  test("the list never contains a token, only its prefix; the token authenticates as Bearer", async () => {
    const created = await createToken({ name: "lister" });
    const before = await owner.client.get<TokenList>("/v1/auth/tokens");
    expect(before.status).toBe(200);
    const item = (before.body.tokens as TokenItem[]).find((x) => x.id === created.id);
    expect(item).toEqual({
      id: created.id,
      name: "lister",
      prefix: created.prefix,
      created_at: created.created_at,
      expires_at: null,
      last_used_at: null,
    });
    expect(JSON.stringify(before.body)).not.toContain(created.token);
    expect(JSON.stringify(before.body)).not.toContain(created.token.slice(16));
    expect(before.body.pagination.total).toBe((before.body.tokens as TokenItem[]).length);

    const me = await meWithBearer(t, created.token);
    expect(me.status).toBe(200);
    const body = (await me.json()) as { user: { id: string; namespace: string } };
    expect(body.user.id).toBe(owner.user.id);
    expect(body.user.namespace).toBe(owner.namespace);

    // Use is recorded.
    const after = await owner.client.get<TokenList>("/v1/auth/tokens");
    const used = (after.body.tokens as TokenItem[]).find((x) => x.id === created.id);
    expect(used?.last_used_at).toBe(new Date(clock.now()).toISOString());
    expect(JSON.stringify(after.body)).not.toContain(created.token);

    // A PAT can list tokens too, and still sees no secrets.
    const viaPat = new ApiClient(t.url, null);
    viaPat.bearer = created.token;
    const list = await viaPat.get<TokenList>("/v1/auth/tokens");
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(created.token);
    // The other owner's tokens are not visible.
    const otherList = await other.client.get<TokenList>("/v1/auth/tokens");
    expect((otherList.body.tokens as TokenItem[]).map((x) => x.id)).not.toContain(created.id);
  });

  test("expires_at in the past, or not a timestamp → 400 VALIDATION_ERROR, nothing stored", async () => {
    const [{ n: before }] = (await rows(
      t,
      "SELECT count(*) AS n FROM personal_access_tokens WHERE owner_id = ?",
      [owner.user.id],
    )) as [{ n: number }];
    for (const expires_at of [
      new Date(clock.now() - 1000).toISOString(),
      new Date(clock.now()).toISOString(),
      "tomorrow",
      12345,
    ]) {
      const res = await owner.client.post<ApiErrorBody>("/v1/auth/tokens", {
        name: "bad",
        expires_at,
      });
      expect({ expires_at, status: res.status }).toEqual({ expires_at, status: 400 });
      expect(res.body.code).toBe("VALIDATION_ERROR");
      expect(res.body.details!.map((d: { field: string }) => d.field)).toEqual(["expires_at"]);
    }
    for (const body of [{}, { name: "" }, { name: "   " }, { name: "x", scope: "all" }]) {
      const res = await owner.client.post<ApiErrorBody>("/v1/auth/tokens", body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(res.body.code).toBe("VALIDATION_ERROR");
    }
    const [{ n: after }] = (await rows(
      t,
      "SELECT count(*) AS n FROM personal_access_tokens WHERE owner_id = ?",
      [owner.user.id],
    )) as [{ n: number }];
    expect(after).toBe(before);
  });

  test("an expiring token works until its expiry and not after", async () => {
    const expiresAt = clock.now() + HOUR;
    const token = await createToken({
      name: "short-lived",
      expires_at: new Date(expiresAt).toISOString(),
    });
    expect((await meWithBearer(t, token.token)).status).toBe(200);

    clock.ms = expiresAt - 1000;
    expect((await meWithBearer(t, token.token)).status).toBe(200);

    clock.ms = expiresAt;
    const expired = await meWithBearer(t, token.token);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { code: string }).code).toBe("UNAUTHORIZED");

    clock.ms = expiresAt + 24 * HOUR;
    expect((await meWithBearer(t, token.token)).status).toBe(401);
  });

  test("DELETE revokes immediately; deleting again or another owner's token → 404", async () => {
    const token = await createToken({ name: "to-revoke" });
    const othersToken = await createToken({ name: "other's" }, other);
    expect((await meWithBearer(t, token.token)).status).toBe(200);

    const notYours = await owner.client.delete<ApiErrorBody>(`/v1/auth/tokens/${othersToken.id}`);
    expect(notYours.status).toBe(404);
    expect(notYours.body.code).toBe("NOT_FOUND");
    expect((await meWithBearer(t, othersToken.token)).status).toBe(200);

    const res = await owner.client.delete<Deleted>(`/v1/auth/tokens/${token.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: token.id, deleted: true });
    const after = await meWithBearer(t, token.token);
    expect(after.status).toBe(401);
    const list = await owner.client.get<TokenList>("/v1/auth/tokens");
    expect((list.body.tokens as TokenItem[]).map((x) => x.id)).not.toContain(token.id);

    const again = await owner.client.delete<ApiErrorBody>(`/v1/auth/tokens/${token.id}`);
    expect(again.status).toBe(404);
    expect(again.body.code).toBe("NOT_FOUND");
    expect(
      (await owner.client.delete<ApiErrorBody>("/v1/auth/tokens/pat_00000000000000000000")).status,
    ).toBe(404);
  });

  test("a token with a broken checksum or a changed character → 401", async () => {
    const token = await createToken({ name: "checksum" });
    const flip = (s: string, i: number) => {
      const c = s[i] === "A" ? "B" : "A";
      return `${s.slice(0, i)}${c}${s.slice(i + 1)}`;
    };
    const variants = [
      flip(token.token, token.token.length - 1), // checksum character
      flip(token.token, 20), // random body character: checksum no longer matches
      token.token.slice(0, -1), // truncated
      `${token.token}A`, // extended
      token.token.replace("sgl_pat_", "sgl_sk_prod_"), // wrong kind
      token.token.toLowerCase(),
    ];
    for (const variant of variants) {
      expect(variant).not.toBe(token.token);
      const res = await meWithBearer(t, variant);
      expect({ variant, status: res.status }).toEqual({ variant, status: 401 });
    }
    // Malformed Authorization headers are 401 too, never 500.
    for (const authorization of ["Bearer", "Bearer ", `Token ${token.token}`, "Bearer a b"]) {
      const res = await fetch(`${t.url}/v1/auth/me`, { headers: { authorization } });
      expect({ authorization, status: res.status }).toEqual({ authorization, status: 401 });
    }
    // The genuine token still works, so the 401s are about the alterations.
    expect((await meWithBearer(t, token.token)).status).toBe(200);
  });

  test("the token ends in 6 base62 chars of CRC-32 over everything before them", async () => {
    const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const encode = (value: number) => {
      let out = "";
      let v = value;
      for (let i = 0; i < 6; i++) {
        out = base62[v % 62] + out;
        v = Math.floor(v / 62);
      }
      return out;
    };
    for (let i = 0; i < 3; i++) {
      const { token } = await createToken({ name: `crc-${i}` });
      const body = token.slice(0, -6);
      expect(body).toMatch(/^sgl_pat_[0-9A-Za-z]{32}$/);
      expect(token.slice(-6)).toBe(encode(Bun.hash.crc32(body)));
    }
  });

  test("the database stores only a SHA-256 of the token", async () => {
    const token = await createToken({ name: "hashed" });
    const stored = await rows(t, "SELECT * FROM personal_access_tokens WHERE id = ?", [token.id]);
    expect(stored).toHaveLength(1);
    const row = stored[0]!;
    expect(row.token_hash).toBe(sha256Hex(token.token));
    expect(row.prefix).toBe(token.prefix);
    const secretPart = token.token.slice(16);
    for (const [column, value] of Object.entries(row)) {
      const text = String(value);
      expect({ column, leaked: text.includes(token.token) || text.includes(secretPart) }).toEqual({
        column,
        leaked: false,
      });
    }
    // The stored hash is not itself usable as a token.
    expect((await meWithBearer(t, String(row.token_hash))).status).toBe(401);
  });

  test("an API key is not an owner credential", async () => {
    const svc = await owner.client.post<Service>("/v1/services", {
      slug: `pat-svc-${Date.now()}`,
      name: "S",
    });
    expect(svc.status).toBe(201);
    const key = await owner.client.post<ApiKeyCreated>(`/v1/services/${svc.body.id}/keys`);
    expect(key.status).toBe(201);
    const res = await meWithBearer(t, key.body.key);
    expect(res.status).toBe(401);
  });
});
