/**
 * What passkey ceremonies refuse (http-api.md §3, dashboard.md §4): challenges single-use,
 * 5 minutes, bound to their ceremony (login, sign-up's namespace + email, the adding owner);
 * the origin, RP id and signature counter; foreign Origins; bad bodies — nothing written.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { pruneExpired } from "../../src/jobs.ts";
import {
  ApiClient,
  ManualClock,
  signUp,
  startTestServer,
  type TestServer,
  uniqueName,
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
  signupOptions,
  type User,
} from "./passkeySupport.ts";
import { count, rows } from "./support.ts";

const MINUTE = 60_000;

let t: TestServer;
const clock = new ManualClock();
beforeAll(async () => {
  t = await startTestServer({ clock });
});
afterAll(() => t.close());

function fresh() {
  const namespace = uniqueName("pks");
  return { client: new ApiClient(t.url, t.origin), namespace, email: `${namespace}@example.com` };
}

async function loginOptions(client = new ApiClient(t.url, t.origin)) {
  const res = await client.post<RequestOptions>("/v1/auth/login/options");
  expect(res.status).toBe(200);
  return res.body;
}

/** Row counts of every table a passkey route writes. */
async function written() {
  return {
    owners: await count(t, "owners"),
    passkeys: await count(t, "passkeys"),
    sessions: await count(t, "sessions"),
  };
}

function expectError(res: { status: number; body: unknown }, status: number, code: string) {
  expect({ status: res.status, code: (res.body as ErrorBody).code }).toEqual({ status, code });
}

describe("challenges", () => {
  test("single-use: a sign-in response replayed is refused, as is a registration's", async () => {
    const s = await passkeySignUp(t);
    const client = new ApiClient(t.url, t.origin);
    const response = await s.authenticator.authenticate(await loginOptions(client), t.origin);
    expect((await client.post("/v1/auth/login/passkey", { response })).status).toBe(200);
    const replay = await new ApiClient(t.url, t.origin).post<ErrorBody>("/v1/auth/login/passkey", {
      response,
    });
    expectError(replay, 401, "INVALID_CREDENTIALS");

    const authenticator = await SoftAuthenticator.create();
    const options = await s.client.get<CreationOptions>("/v1/auth/passkeys/options");
    const registration = await authenticator.register(options.body, t.origin);
    expect((await s.client.post("/v1/auth/passkeys", { response: registration })).status).toBe(201);
    const again = await s.client.post<ErrorBody>("/v1/auth/passkeys", { response: registration });
    expectError(again, 400, "VERIFICATION_FAILED");
    expect(await count(t, "passkeys", "owner_id = ?", [s.user.id])).toBe(2);
  });

  test("expire after 5 minutes, checked at use: sign-up and sign-in refused, nothing written", async () => {
    const f = fresh();
    const authenticator = await SoftAuthenticator.create();
    const options = await signupOptions(f.client, f.namespace, f.email);
    clock.advance(5 * MINUTE);
    const before = await written();
    const late = await f.client.post<ErrorBody>("/v1/auth/signup/passkey", {
      namespace: f.namespace,
      email: f.email,
      response: await authenticator.register(options, t.origin),
    });
    expectError(late, 400, "CHALLENGE_EXPIRED");
    expect(await written()).toEqual(before);

    const s = await passkeySignUp(t);
    const client = new ApiClient(t.url, t.origin);
    const stale = await loginOptions(client);
    clock.advance(5 * MINUTE + 1);
    const res = await client.post<ErrorBody>("/v1/auth/login/passkey", {
      response: await s.authenticator.authenticate(stale, t.origin),
    });
    expectError(res, 400, "CHALLENGE_EXPIRED");
    expect(client.cookie).toBeNull();
    // Just inside the 5 minutes is fine.
    const fine = await loginOptions(client);
    clock.advance(5 * MINUTE - 1);
    const ok = await client.post<{ user: User }>("/v1/auth/login/passkey", {
      response: await s.authenticator.authenticate(fine, t.origin),
    });
    expect(ok.status).toBe(200);
  });

  test("the retention job prunes expired challenges and keeps live ones", async () => {
    const stale = await loginOptions();
    clock.advance(5 * MINUTE);
    const live = await loginOptions();
    await pruneExpired(t.server.ctx);
    expect(await count(t, "webauthn_challenges", "challenge = ?", [stale.challenge])).toBe(0);
    expect(await count(t, "webauthn_challenges", "challenge = ?", [live.challenge])).toBe(1);
  });

  test("a login challenge cannot finish a registration, nor a registration's a sign-in", async () => {
    const s = await passkeySignUp(t);
    const authenticator = await SoftAuthenticator.create();
    const login = await loginOptions();
    const registration = await s.client.get<CreationOptions>("/v1/auth/passkeys/options");
    const before = await written();
    const res = await s.client.post<ErrorBody>("/v1/auth/passkeys", {
      response: await authenticator.register(registration.body, t.origin, {
        challenge: login.challenge,
      }),
    });
    expectError(res, 400, "VERIFICATION_FAILED");

    const signin = await new ApiClient(t.url, t.origin).post<ErrorBody>("/v1/auth/login/passkey", {
      response: await s.authenticator.authenticate(
        { challenge: registration.body.challenge },
        t.origin,
      ),
    });
    expectError(signin, 401, "INVALID_CREDENTIALS");
    expect(await written()).toEqual(before);
  });

  test("an add-passkey challenge is its owner's: another owner cannot use it", async () => {
    const a = await signUp(t);
    const b = await signUp(t);
    const options = await a.client.get<CreationOptions>("/v1/auth/passkeys/options");
    const authenticator = await SoftAuthenticator.create();
    const res = await b.client.post<ErrorBody>("/v1/auth/passkeys", {
      response: await authenticator.register(options.body, t.origin),
    });
    expectError(res, 400, "VERIFICATION_FAILED");
    expect(await count(t, "passkeys", "owner_id IN (?, ?)", [a.user.id, b.user.id])).toBe(0);
  });

  test("a sign-up challenge is bound to its namespace and email", async () => {
    const f = fresh();
    const other = fresh();
    for (const body of [
      { namespace: other.namespace, email: f.email },
      { namespace: f.namespace, email: other.email },
    ]) {
      const options = await signupOptions(f.client, f.namespace, f.email);
      const authenticator = await SoftAuthenticator.create();
      const before = await written();
      const res = await f.client.post<ErrorBody>("/v1/auth/signup/passkey", {
        ...body,
        response: await authenticator.register(options, t.origin),
      });
      expectError(res, 400, "VERIFICATION_FAILED");
      expect(await written()).toEqual(before);
    }
    // The email's case does not matter (it is stored normalised).
    const options = await signupOptions(f.client, f.namespace, f.email);
    const ok = await f.client.post<{ user: User }>("/v1/auth/signup/passkey", {
      namespace: f.namespace.toUpperCase(),
      email: f.email.toUpperCase(),
      response: await (await SoftAuthenticator.create()).register(options, t.origin),
    });
    expect(ok.status).toBe(201);
  });
});

describe("what the authenticator signed", () => {
  test("a response made for another origin or RP id is refused", async () => {
    const f = fresh();
    const authenticator = await SoftAuthenticator.create();
    for (const forged of [
      { origin: "https://evil.example" },
      { rpId: "evil.example" },
      { type: "webauthn.get" },
    ]) {
      const options = await signupOptions(f.client, f.namespace, f.email);
      const res = await f.client.post<ErrorBody>("/v1/auth/signup/passkey", {
        namespace: f.namespace,
        email: f.email,
        response: await authenticator.register(options, t.origin, forged),
      });
      expectError(res, 400, "VERIFICATION_FAILED");
    }
    expect(await count(t, "owners", "namespace = ?", [f.namespace])).toBe(0);

    const s = await passkeySignUp(t);
    for (const forged of [{ origin: "https://evil.example" }, { rpId: "evil.example" }]) {
      const { res, client } = await passkeyLogin(t, s.authenticator, forged);
      expectError(res, 401, "INVALID_CREDENTIALS");
      expect(client.cookie).toBeNull();
    }
  });

  test("a forged signature or an unknown credential is refused like a wrong password", async () => {
    const s = await passkeySignUp(t);
    const client = new ApiClient(t.url, t.origin);
    const response = await s.authenticator.authenticate(await loginOptions(client), t.origin);
    const signature = Buffer.from(response.response.signature, "base64url");
    signature[signature.length - 1]! ^= 1;
    const forged = await client.post<ErrorBody>("/v1/auth/login/passkey", {
      response: {
        ...response,
        response: { ...response.response, signature: signature.toString("base64url") },
      },
    });
    expectError(forged, 401, "INVALID_CREDENTIALS");

    const stranger = await SoftAuthenticator.create();
    const { res } = await passkeyLogin(t, stranger);
    expectError(res, 401, "INVALID_CREDENTIALS");
  });

  test("a user handle naming someone else, or a changed backup eligibility, is refused", async () => {
    const s = await passkeySignUp(t);
    const other = await passkeySignUp(t);
    const own = s.authenticator.userHandle;
    s.authenticator.userHandle = other.authenticator.userHandle;
    expectError((await passkeyLogin(t, s.authenticator)).res, 401, "INVALID_CREDENTIALS");
    s.authenticator.userHandle = own;
    // Registered device-bound; the same credential claiming to be synced is not the same one.
    s.authenticator.synced = true;
    expectError((await passkeyLogin(t, s.authenticator)).res, 401, "INVALID_CREDENTIALS");
    s.authenticator.synced = false;
    expect((await passkeyLogin(t, s.authenticator)).res.status).toBe(200);
  });

  test("a signature counter that does not grow is refused, and the stored one kept", async () => {
    const s = await passkeySignUp(t);
    expect((await passkeyLogin(t, s.authenticator, { counter: 5 })).res.status).toBe(200);
    for (const counter of [3, 5, 0]) {
      const { res } = await passkeyLogin(t, s.authenticator, { counter });
      expectError(res, 401, "INVALID_CREDENTIALS");
    }
    const [pk] = await rows(t, "SELECT counter FROM passkeys WHERE owner_id = ?", [s.user.id]);
    expect(pk?.counter).toBe(5);
    expect((await passkeyLogin(t, s.authenticator, { counter: 6 })).res.status).toBe(200);
  });

  test("authenticators without a counter (always 0) keep working", async () => {
    const s = await passkeySignUp(t);
    for (let i = 0; i < 2; i++) {
      expect((await passkeyLogin(t, s.authenticator, { counter: 0 })).res.status).toBe(200);
    }
  });

  test("one authenticator credential belongs to one account: registering it again is 409", async () => {
    const a = await signUp(t);
    const b = await signUp(t);
    const added = await addPasskey(t, a.client);
    expect(added.res.status).toBe(201);
    const options = await b.client.get<CreationOptions>("/v1/auth/passkeys/options");
    const res = await b.client.post<ErrorBody>("/v1/auth/passkeys", {
      response: await added.authenticator.register(options.body, t.origin),
    });
    expectError(res, 409, "CONFLICT");
    expect(await count(t, "passkeys", "owner_id = ?", [b.user.id])).toBe(0);
  });
});

describe("forms", () => {
  test("a foreign Origin is refused on every passkey form, before anything is stored", async () => {
    const f = fresh();
    const evil = new ApiClient(t.url, "https://evil.example");
    const challenges = await count(t, "webauthn_challenges");
    const authenticator = await SoftAuthenticator.create();
    const response = await authenticator.register(
      await signupOptions(f.client, f.namespace, f.email),
      t.origin,
    );
    const before = await written();
    for (const [path, body] of [
      ["/v1/auth/signup/options", { namespace: f.namespace, email: f.email }],
      ["/v1/auth/signup/passkey", { namespace: f.namespace, email: f.email, response }],
      ["/v1/auth/login/options", undefined],
    ] as const) {
      expectError(await evil.post<ErrorBody>(path, body), 403, "CSRF_REJECTED");
    }
    expect(await count(t, "webauthn_challenges")).toBe(challenges + 1);
    expect(await written()).toEqual(before);
    // The sign-up itself still works from our origin (the challenge was not used up).
    const ok = await f.client.post("/v1/auth/signup/passkey", {
      namespace: f.namespace,
      email: f.email,
      response,
    });
    expect(ok.status).toBe(201);

    const s = await passkeySignUp(t);
    const login = await s.authenticator.authenticate(await loginOptions(), t.origin);
    const refused = await evil.post<ErrorBody>("/v1/auth/login/passkey", { response: login });
    expectError(refused, 403, "CSRF_REJECTED");
    expect(evil.cookie).toBeNull();
  });

  test("a taken namespace or email is answered at the options step: 409, no challenge", async () => {
    const taken = await signUp(t);
    const f = fresh();
    const challenges = await count(t, "webauthn_challenges");
    const ns = await f.client.post<ErrorBody>("/v1/auth/signup/options", {
      namespace: taken.namespace,
      email: f.email,
    });
    expectError(ns, 409, "NAMESPACE_TAKEN");
    const email = await f.client.post<ErrorBody>("/v1/auth/signup/options", {
      namespace: f.namespace,
      email: taken.email.toUpperCase(),
    });
    expectError(email, 409, "EMAIL_TAKEN");
    const reserved = await f.client.post<ErrorBody>("/v1/auth/signup/options", {
      namespace: "admin",
      email: f.email,
    });
    expectError(reserved, 409, "NAMESPACE_TAKEN");
    expect(await count(t, "webauthn_challenges")).toBe(challenges);
  });

  test("a namespace taken between options and passkey is a 409, the account not created", async () => {
    const f = fresh();
    const options = await signupOptions(f.client, f.namespace, f.email);
    await signUp(t, f.namespace);
    const res = await f.client.post<ErrorBody>("/v1/auth/signup/passkey", {
      namespace: f.namespace,
      email: f.email,
      response: await (await SoftAuthenticator.create()).register(options, t.origin),
    });
    expectError(res, 409, "NAMESPACE_TAKEN");
    // Only the password account that took it exists, without the passkey.
    const owners = await rows(t, "SELECT id, password_hash FROM owners WHERE namespace = ?", [
      f.namespace,
    ]);
    expect(owners).toHaveLength(1);
    expect(owners[0]?.password_hash).not.toBeNull();
    expect(await count(t, "passkeys", "owner_id = ?", [owners[0]!.id as string])).toBe(0);
  });

  test("bad bodies → 400 with a code, nothing written", async () => {
    const s = await passkeySignUp(t);
    const [pk] = (await s.client.get<{ passkeys: Passkey[] }>("/v1/auth/passkeys")).body.passkeys;
    const f = fresh();
    const good = await s.authenticator.register(
      await signupOptions(f.client, f.namespace, f.email),
      t.origin,
    );
    const before = { ...(await written()), challenges: await count(t, "webauthn_challenges") };
    const cases: [ApiClient, string, string, unknown, string][] = [
      [f.client, "POST", "/v1/auth/signup/options", { namespace: f.namespace }, "VALIDATION_ERROR"],
      [
        f.client,
        "POST",
        "/v1/auth/signup/options",
        { namespace: "no", email: f.email },
        "VALIDATION_ERROR",
      ],
      [
        f.client,
        "POST",
        "/v1/auth/signup/options",
        { namespace: f.namespace, email: "not-an-email" },
        "VALIDATION_ERROR",
      ],
      [
        f.client,
        "POST",
        "/v1/auth/signup/options",
        { namespace: f.namespace, email: f.email, password: "x" },
        "VALIDATION_ERROR",
      ],
      [f.client, "POST", "/v1/auth/signup/options", "{not json", "INVALID_JSON"],
      [
        f.client,
        "POST",
        "/v1/auth/signup/passkey",
        { namespace: f.namespace, email: f.email },
        "VALIDATION_ERROR",
      ],
      [
        f.client,
        "POST",
        "/v1/auth/signup/passkey",
        {
          namespace: f.namespace,
          email: f.email,
          response: { ...good, response: { ...good.response, attestationObject: "not base64!" } },
        },
        "VALIDATION_ERROR",
      ],
      [
        f.client,
        "POST",
        "/v1/auth/signup/passkey",
        { namespace: f.namespace, email: f.email, response: { ...good, type: "password" } },
        "VALIDATION_ERROR",
      ],
      [
        f.client,
        "POST",
        "/v1/auth/signup/passkey",
        {
          namespace: f.namespace,
          email: f.email,
          response: { ...good, response: { ...good.response, clientDataJSON: "e30" } },
        },
        "VERIFICATION_FAILED",
      ],
      [f.client, "POST", "/v1/auth/login/options", { login: "x" }, "VALIDATION_ERROR"],
      [f.client, "POST", "/v1/auth/login/passkey", {}, "VALIDATION_ERROR"],
      [f.client, "POST", "/v1/auth/login/passkey", { response: "x" }, "VALIDATION_ERROR"],
      [s.client, "POST", "/v1/auth/passkeys", { response: good, extra: 1 }, "VALIDATION_ERROR"],
      [s.client, "POST", "/v1/auth/passkeys", { response: good, name: " " }, "VALIDATION_ERROR"],
      [s.client, "PATCH", `/v1/auth/passkeys/${pk!.id}`, { name: "" }, "VALIDATION_ERROR"],
      [s.client, "PATCH", `/v1/auth/passkeys/${pk!.id}`, { name: "a\nb" }, "VALIDATION_ERROR"],
      [s.client, "PATCH", `/v1/auth/passkeys/${pk!.id}`, {}, "VALIDATION_ERROR"],
      [s.client, "GET", "/v1/auth/passkeys?limit=0", undefined, "VALIDATION_ERROR"],
      [s.client, "GET", "/v1/auth/passkeys/options?x=1", undefined, "VALIDATION_ERROR"],
    ];
    for (const [client, method, path, body, code] of cases) {
      const json: Record<string, string> =
        typeof body === "string" ? { "content-type": "application/json" } : {};
      const res = await client.request<ErrorBody>(method, path, body, json);
      expect({ path, body, status: res.status, code: res.body.code }).toEqual({
        path,
        body,
        status: 400,
        code,
      });
    }
    expect({ ...(await written()), challenges: await count(t, "webauthn_challenges") }).toEqual(
      before,
    );
    const [after] = await rows(t, "SELECT name FROM passkeys WHERE id = ?", [pk!.id]);
    expect(after?.name).toBe(pk!.name);
  });

  test("passkey routes need a signed-in owner", async () => {
    const anon = new ApiClient(t.url, t.origin);
    for (const [method, path] of [
      ["GET", "/v1/auth/passkeys/options"],
      ["GET", "/v1/auth/passkeys"],
      ["POST", "/v1/auth/passkeys"],
      ["PATCH", "/v1/auth/passkeys/pk_00000000000000000000"],
      ["DELETE", "/v1/auth/passkeys/pk_00000000000000000000"],
    ] as const) {
      const res = await anon.request<ErrorBody>(method, path, method === "PATCH" ? {} : undefined);
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
  });
});

describe("sign-up closed", () => {
  let closed: TestServer;
  beforeAll(async () => {
    closed = await startTestServer({ env: { SIGILUM_SIGNUP: "closed" } });
  });
  afterAll(() => closed.close());

  test("403 SIGNUP_DISABLED on the options and on the passkey step; no challenge, no owner", async () => {
    const client = new ApiClient(closed.url, closed.origin);
    const body = { namespace: "closed-ns", email: "closed@example.com" };
    expectError(
      await client.post<ErrorBody>("/v1/auth/signup/options", body),
      403,
      "SIGNUP_DISABLED",
    );
    const authenticator = await SoftAuthenticator.create();
    const response = await authenticator.register(
      {
        challenge: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        rp: {},
        user: { id: "dXNlcg" },
      },
      closed.origin,
    );
    expectError(
      await client.post<ErrorBody>("/v1/auth/signup/passkey", { ...body, response }),
      403,
      "SIGNUP_DISABLED",
    );
    const db = closed.server.ctx.database.client;
    for (const table of ["webauthn_challenges", "owners"]) {
      expect(Number((await db.execute(`SELECT count(*) FROM ${table}`)).rows[0]![0])).toBe(0);
    }
  });
});

describe("rate limits", () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ env: { SIGILUM_RATE_LIMIT_AUTH: "3" } });
  });
  afterAll(() => limited.close());

  test("passkey sign-in options are limited per IP, and password failures never block them", async () => {
    const client = new ApiClient(limited.url, limited.origin);
    for (let i = 0; i < 3; i++) {
      await client.post("/v1/auth/login", { login: "nobody", password: "wrong password" });
    }
    const blocked = await client.post<ErrorBody>("/v1/auth/login", {
      login: "nobody",
      password: "wrong password",
    });
    expectError(blocked, 429, "RATE_LIMITED");
    for (let i = 0; i < 3; i++) {
      expect((await client.post("/v1/auth/login/options")).status).toBe(200);
    }
    const res = await client.post<ErrorBody>("/v1/auth/login/options");
    expectError(res, 429, "RATE_LIMITED");
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});
