/**
 * Passkeys (http-api.md §3, dashboard.md §4) over real HTTP, with a software authenticator
 * whose responses the server verifies for real (@simplewebauthn/server).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  ApiClient,
  ManualClock,
  PASSWORD,
  signUp,
  startTestServer,
  type TestServer,
} from "../helpers/server.ts";
import { SoftAuthenticator } from "../helpers/softAuthenticator.ts";
import {
  addPasskey,
  type CreationOptions,
  type ErrorBody,
  type Passkey,
  passkeyLogin,
  passkeySignUp,
  type RequestOptions,
  type User,
} from "./passkeySupport.ts";
import { count, ISO_MS, rows } from "./support.ts";

let t: TestServer;
const clock = new ManualClock();
beforeAll(async () => {
  t = await startTestServer({ clock });
});
afterAll(() => t.close());

type PasskeyList = { passkeys: Passkey[]; pagination: { total: number } };

describe("passkey sign-up and sign-in", () => {
  test("signup options are what startRegistration takes: RP = this host, resident key, no attestation", async () => {
    const client = new ApiClient(t.url, t.origin);
    const res = await client.post<CreationOptions>("/v1/auth/signup/options", {
      namespace: "opts-check",
      email: "opts-check@example.com",
    });
    expect(res.status).toBe(200);
    expect(res.body.rp).toEqual({ name: "Sigilum", id: new URL(t.origin).hostname });
    expect(res.body.user.name).toBe("opts-check@example.com");
    expect(res.body.user.displayName).toBe("opts-check");
    expect(res.body.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.body.attestation).toBe("none");
    expect(res.body.authenticatorSelection).toMatchObject({
      residentKey: "required",
      userVerification: "preferred",
    });
    expect(res.body.timeout).toBe(300_000);
    expect(res.body.pubKeyCredParams.map((p) => p.alg)).toContain(-7);
    expect(await count(t, "webauthn_challenges", "challenge = ?", [res.body.challenge])).toBe(1);
    // Nothing is created before the passkey comes back.
    expect(await count(t, "owners", "namespace = ?", ["opts-check"])).toBe(0);
  });

  test("sign up with a passkey → an owner with no password and one passkey, signed in", async () => {
    const s = await passkeySignUp(t);
    expect(s.user).toMatchObject({ namespace: s.namespace, has_password: false, passkey_count: 1 });
    const me = await s.client.get<{ user: User }>("/v1/auth/me");
    expect(me.status).toBe(200);
    expect(me.body.user).toEqual(s.user);
    const [owner] = await rows(t, "SELECT id, password_hash FROM owners WHERE namespace = ?", [
      s.namespace,
    ]);
    expect(owner?.password_hash).toBeNull();
    // The user handle the authenticator keeps is the owner's id.
    expect(Buffer.from(s.authenticator.userHandle!, "base64url").toString()).toBe(s.user.id);
    const [pk] = await rows(t, "SELECT * FROM passkeys WHERE owner_id = ?", [s.user.id]);
    expect(pk).toMatchObject({
      credential_id: s.authenticator.id,
      counter: 0,
      transports: JSON.stringify(["internal", "hybrid"]),
      backup_eligible: 0,
      backed_up: 0,
    });
    // The challenge was used up.
    expect(await count(t, "webauthn_challenges", "owner_id = ?", [s.user.id])).toBe(0);
  });

  test("sign in with the passkey, discoverably: options name no credential; the counter is stored", async () => {
    const s = await passkeySignUp(t);
    const client = new ApiClient(t.url, t.origin);
    const options = await client.post<RequestOptions>("/v1/auth/login/options");
    expect(options.status).toBe(200);
    expect(options.body).toMatchObject({
      rpId: new URL(t.origin).hostname,
      allowCredentials: [],
      userVerification: "preferred",
      timeout: 300_000,
    });
    const response = await s.authenticator.authenticate(options.body, t.origin);
    const res = await client.post<{ user: User }>("/v1/auth/login/passkey", { response });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual(s.user);
    expect(client.cookie).not.toBeNull();
    expect((await client.get<{ user: User }>("/v1/auth/me")).body.user.id).toBe(s.user.id);
    const [pk] = await rows(t, "SELECT counter, last_used_at FROM passkeys WHERE owner_id = ?", [
      s.user.id,
    ]);
    expect(pk).toEqual({ counter: 1, last_used_at: clock.ms });
    // …and again, with a higher counter.
    const again = await passkeyLogin(t, s.authenticator);
    expect(again.res.status).toBe(200);
  });

  test("a password owner adds passkeys, lists, renames and deletes them", async () => {
    const s = await signUp(t);
    const first = await addPasskey(t, s.client, "  Laptop  ");
    expect(first.res.status).toBe(201);
    expect(first.res.body).toEqual({
      id: expect.stringMatching(/^pk_[0-9A-Za-z]{20}$/),
      name: "Laptop",
      created_at: expect.stringMatching(ISO_MS),
      last_used_at: null,
      transports: ["internal", "hybrid"],
      backup_eligible: true,
      backed_up: true,
    });
    clock.advance(1000); // listed oldest first
    const second = await addPasskey(t, s.client);
    expect(second.res.status).toBe(201);
    expect(second.res.body.name).toBe("Synced passkey");
    // The second prompt was told to skip the authenticator that already has one.
    expect(second.options.excludeCredentials?.map((c) => c.id)).toEqual([first.authenticator.id]);

    const list = await s.client.get<PasskeyList>("/v1/auth/passkeys?limit=1");
    expect(list.status).toBe(200);
    expect(list.body.passkeys).toEqual([first.res.body]);
    expect(list.body.pagination.total).toBe(2);
    expect((await s.client.get<{ user: User }>("/v1/auth/me")).body.user).toMatchObject({
      has_password: true,
      passkey_count: 2,
    });

    const renamed = await s.client.patch<Passkey>(`/v1/auth/passkeys/${first.res.body.id}`, {
      name: "Work laptop",
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toEqual({ ...first.res.body, name: "Work laptop" });

    // The new passkey signs in.
    const login = await passkeyLogin(t, second.authenticator);
    expect(login.res.status).toBe(200);

    const del = await s.client.delete<{ id: string; deleted: boolean }>(
      `/v1/auth/passkeys/${first.res.body.id}`,
    );
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ id: first.res.body.id, deleted: true });
    expect(await count(t, "passkeys", "id = ?", [first.res.body.id])).toBe(0);
    // With a password, even the only passkey may go.
    const last = await s.client.delete(`/v1/auth/passkeys/${second.res.body.id}`);
    expect(last.status).toBe(200);
    // A deleted passkey no longer signs in.
    expect((await passkeyLogin(t, second.authenticator)).res.status).toBe(401);
  });

  test("the last way in cannot be deleted: 409 LAST_CREDENTIAL, and it is still there", async () => {
    const s = await passkeySignUp(t);
    const [only] = (await s.client.get<PasskeyList>("/v1/auth/passkeys")).body.passkeys;
    const refused = await s.client.delete<ErrorBody>(`/v1/auth/passkeys/${only!.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("LAST_CREDENTIAL");
    expect(await count(t, "passkeys", "id = ?", [only!.id])).toBe(1);

    // With a second passkey, either may go — but then the other is the last again.
    const second = await addPasskey(t, s.client);
    expect(second.res.status).toBe(201);
    expect((await s.client.delete(`/v1/auth/passkeys/${only!.id}`)).status).toBe(200);
    const again = await s.client.delete<ErrorBody>(`/v1/auth/passkeys/${second.res.body.id}`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("LAST_CREDENTIAL");
  });

  test("another owner's passkey reads as missing: 404 on rename and delete, unchanged", async () => {
    const a = await passkeySignUp(t);
    const b = await signUp(t);
    const [pk] = (await a.client.get<PasskeyList>("/v1/auth/passkeys")).body.passkeys;
    const rename = await b.client.patch<ErrorBody>(`/v1/auth/passkeys/${pk!.id}`, { name: "x" });
    expect(rename.status).toBe(404);
    const del = await b.client.delete<ErrorBody>(`/v1/auth/passkeys/${pk!.id}`);
    expect(del.status).toBe(404);
    expect((await b.client.get<PasskeyList>("/v1/auth/passkeys")).body.passkeys).toEqual([]);
    const [row] = await rows(t, "SELECT name FROM passkeys WHERE id = ?", [pk!.id]);
    expect(row?.name).toBe(pk!.name);
  });

  test("a passkey-only owner sets a password without a current one, then signs in with it", async () => {
    const s = await passkeySignUp(t);
    const set = await s.client.post<{ ok: boolean }>("/v1/auth/password", {
      new_password: PASSWORD,
    });
    expect(set.status).toBe(200);
    expect((await s.client.get<{ user: User }>("/v1/auth/me")).body.user.has_password).toBe(true);
    const login = await new ApiClient(t.url, t.origin).post<{ user: User }>("/v1/auth/login", {
      login: s.namespace,
      password: PASSWORD,
    });
    expect(login.status).toBe(200);
    expect(login.body.user.id).toBe(s.user.id);

    // From now on the current password is required again.
    const missing = await s.client.post<ErrorBody>("/v1/auth/password", {
      new_password: "another long password",
    });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe("VALIDATION_ERROR");
    expect(missing.body.details?.map((d) => d.field)).toEqual(["current_password"]);
    const ok = await s.client.post<{ ok: boolean }>("/v1/auth/password", {
      current_password: PASSWORD,
      new_password: "another long password",
    });
    expect(ok.status).toBe(200);
  });

  test("account deletion removes the owner's passkeys and pending challenges", async () => {
    const s = await passkeySignUp(t);
    expect((await s.client.get("/v1/auth/passkeys/options")).status).toBe(200);
    expect(await count(t, "webauthn_challenges", "owner_id = ?", [s.user.id])).toBe(1);
    expect((await s.client.delete("/v1/auth/account")).status).toBe(200);
    expect(await count(t, "passkeys", "owner_id = ?", [s.user.id])).toBe(0);
    expect(await count(t, "webauthn_challenges", "owner_id = ?", [s.user.id])).toBe(0);
    expect((await passkeyLogin(t, s.authenticator)).res.status).toBe(401);
  });
});

describe("relying party from SIGILUM_PUBLIC_URL", () => {
  let pub: TestServer;
  beforeAll(async () => {
    pub = await startTestServer({ env: { SIGILUM_PUBLIC_URL: "https://registry.example.com" } });
  });
  afterAll(() => pub.close());

  test("RP id is the public host and the origin expected is the public origin", async () => {
    const origin = "https://registry.example.com";
    const client = new ApiClient(pub.url, origin);
    const namespace = "public-rp";
    const email = "public-rp@example.com";
    const options = await client.post<CreationOptions>("/v1/auth/signup/options", {
      namespace,
      email,
    });
    expect(options.status).toBe(200);
    expect(options.body.rp.id).toBe("registry.example.com");
    const authenticator = await SoftAuthenticator.create();
    // The loopback origin the request really came to is not the expected one.
    const wrong = await client.post<ErrorBody>("/v1/auth/signup/passkey", {
      namespace,
      email,
      response: await authenticator.register(options.body, pub.origin, {
        rpId: new URL(pub.origin).hostname,
      }),
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.code).toBe("VERIFICATION_FAILED");
    const again = await client.post<CreationOptions>("/v1/auth/signup/options", {
      namespace,
      email,
    });
    const res = await client.post<{ user: User }>("/v1/auth/signup/passkey", {
      namespace,
      email,
      response: await authenticator.register(again.body, origin),
    });
    expect(res.status).toBe(201);
  });
});
