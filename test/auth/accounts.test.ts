import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectError } from "../helpers/assertions.ts";
import {
  ApiClient,
  type JsonResponse,
  ManualClock,
  PASSWORD,
  signUp,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import type {
  ApiErrorBody,
  ApiKeyCreated,
  Deleted,
  Ok,
  Service,
  ServiceList,
  TokenCreated,
  UserBody,
  WebhookCreated,
} from "../helpers/types.ts";
import {
  bareClient,
  count,
  ISO_MS,
  meWithBearer,
  meWithCookie,
  sessionSetCookie,
  UUID_V4,
} from "./support.ts";

const FOREIGN_ORIGIN = "https://evil.example";

describe("owner accounts: signup, login, me, logout", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  test("signup returns the exact User and an HttpOnly, SameSite=Lax, non-Secure cookie on loopback http", async () => {
    const client = new ApiClient(t.url, t.origin);
    const namespace = uniqueName("acct");
    const email = `${namespace}@example.com`;
    const before = Date.now();
    const res = await client.post<UserBody>("/v1/auth/signup", {
      namespace,
      email,
      password: PASSWORD,
    });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(["user"]);
    const user = res.body.user;
    expect(user).toEqual({
      id: expect.stringMatching(UUID_V4),
      namespace,
      did: `did:sigilum:${namespace}`,
      email,
      created_at: expect.stringMatching(ISO_MS),
      has_password: true,
      passkey_count: 0,
    });
    const created = Date.parse(user.created_at);
    expect(created).toBeGreaterThanOrEqual(before - 1000);
    expect(created).toBeLessThanOrEqual(Date.now() + 1000);

    const cookie = sessionSetCookie(res);
    expect(cookie).not.toBeNull();
    // ≥256 bits of randomness, base64url.
    expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(cookie!.attrs.has("httponly")).toBe(true);
    expect(cookie!.attrs.get("samesite")?.toLowerCase()).toBe("lax");
    expect(cookie!.attrs.get("path")).toBe("/");
    expect(cookie!.attrs.has("secure")).toBe(false);
    expect(Number(cookie!.attrs.get("max-age"))).toBeGreaterThan(29 * 86_400);

    const me = await client.get<UserBody>("/v1/auth/me");
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ user });
  });

  test("namespace input is lower-cased; email keeps its case but is unique case-insensitively; login by email in any case", async () => {
    const base = uniqueName("Mixed");
    const email = `${base}.Person@Example.COM`;
    const client = new ApiClient(t.url, t.origin);
    const res = await client.post<UserBody>("/v1/auth/signup", {
      namespace: base.toUpperCase(),
      email,
      password: PASSWORD,
    });
    expect(res.status).toBe(201);
    expect(res.body.user.namespace).toBe(base.toLowerCase());
    expect(res.body.user.did).toBe(`did:sigilum:${base.toLowerCase()}`);
    expect(res.body.user.email).toBe(email);
    const signupCookie = client.cookie;

    // Same email in another case → EMAIL_TAKEN (checked before hashing, so this is cheap).
    const owners = await count(t, "owners");
    const dupEmail = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/signup", {
      namespace: uniqueName("other"),
      email: email.toLowerCase(),
      password: PASSWORD,
    });
    expect(dupEmail.status).toBe(409);
    expect(dupEmail.body.code).toBe("EMAIL_TAKEN");
    // Same namespace, different case and different email → NAMESPACE_TAKEN.
    const dupNs = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/signup", {
      namespace: base.toLowerCase(),
      email: `${uniqueName("x")}@example.com`,
      password: PASSWORD,
    });
    expect(dupNs.status).toBe(409);
    expect(dupNs.body.code).toBe("NAMESPACE_TAKEN");
    expect(await count(t, "owners")).toBe(owners);

    // Login by email in upper case, and by namespace in mixed case: each gets a new session.
    const byEmail = new ApiClient(t.url, t.origin);
    const login1 = await byEmail.post<UserBody>("/v1/auth/login", {
      login: email.toUpperCase(),
      password: PASSWORD,
    });
    expect(login1.status).toBe(200);
    expect(login1.body).toEqual({ user: res.body.user });
    const c1 = sessionSetCookie(login1);
    expect(c1?.attrs.has("httponly")).toBe(true);
    expect(c1?.value).not.toBe(signupCookie);

    // A script without any Origin header may sign in (only a foreign Origin is refused).
    const byNamespace = bareClient(t);
    const login2 = await byNamespace.post<UserBody>("/v1/auth/login", {
      login: base.toUpperCase(),
      password: PASSWORD,
    });
    expect(login2.status).toBe(200);
    expect(login2.body.user.id).toBe(res.body.user.id);
    const c2 = sessionSetCookie(login2);
    expect(c2?.value).toBeDefined();
    expect(new Set([signupCookie, c1?.value, c2?.value]).size).toBe(3);

    for (const cookie of [signupCookie!, c1!.value, c2!.value]) {
      const me = await meWithCookie(t, cookie);
      expect(me.status).toBe(200);
      expect(((await me.json()) as { user: { id: string } }).user.id).toBe(res.body.user.id);
    }
    expect(await count(t, "sessions", "owner_id = ?", [res.body.user.id])).toBe(3);
  });

  test("invalid namespaces → 400 VALIDATION_ERROR on the namespace field, nothing written", async () => {
    const owners = await count(t, "owners");
    const bad = ["ab", "-abc", "abc-", "a_b", "a".repeat(65), "naïve", "日本語", "a b c", ""];
    for (const namespace of bad) {
      const res = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/signup", {
        namespace,
        email: `${uniqueName("bad")}@example.com`,
        password: PASSWORD,
      });
      expect({ namespace, status: res.status }).toEqual({ namespace, status: 400 });
      expect(res.body.code).toBe("VALIDATION_ERROR");
      expect(res.body.details!.map((d: { field: string }) => d.field)).toEqual(["namespace"]);
      expect(typeof res.body.request_id).toBe("string");
    }
    // 64 characters is the maximum and is accepted (boundary next to the 65-char case).
    const longest = `z${"9".repeat(62)}z`;
    const ok = await new ApiClient(t.url).post<UserBody>("/v1/auth/signup", {
      namespace: longest,
      email: `${uniqueName("long")}@example.com`,
      password: PASSWORD,
    });
    expect(ok.status).toBe(201);
    expect(ok.body.user.namespace).toBe(longest);
    expect(await count(t, "owners")).toBe(owners + 1);
  });

  test("reserved namespace, short password, unknown field, bad email → clear 4xx and no row", async () => {
    const owners = await count(t, "owners");
    const reserved = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/signup", {
      namespace: "Claims",
      email: `${uniqueName("r")}@example.com`,
      password: PASSWORD,
    });
    expect(reserved.status).toBe(409);
    expect(reserved.body.code).toBe("NAMESPACE_TAKEN");

    const shortPassword = "123456789"; // 9 characters
    const short = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/signup", {
      namespace: uniqueName("pw"),
      email: `${uniqueName("pw")}@example.com`,
      password: shortPassword,
    });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe("VALIDATION_ERROR");
    expect(short.body.details!.map((d: { field: string }) => d.field)).toEqual(["password"]);
    expect(JSON.stringify(short.body)).not.toContain(shortPassword);

    const unknown = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/signup", {
      namespace: uniqueName("uf"),
      email: `${uniqueName("uf")}@example.com`,
      password: PASSWORD,
      role: "admin",
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe("VALIDATION_ERROR");
    expect(unknown.body.details).toEqual([{ field: "role", message: expect.any(String) }]);

    const badEmail = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/signup", {
      namespace: uniqueName("em"),
      email: "not-an-email",
      password: PASSWORD,
    });
    expect(badEmail.status).toBe(400);
    expect(badEmail.body.code).toBe("VALIDATION_ERROR");
    expect(badEmail.body.details![0]!.field).toBe("email");

    expect(await count(t, "owners")).toBe(owners);
    expect(reserved.headers.getSetCookie()).toEqual([]);
  });

  test("a foreign Origin on signup or login → 403 CSRF_REJECTED; no account, no session", async () => {
    const { namespace } = await signUp(t);
    const owners = await count(t, "owners");
    const sessions = await count(t, "sessions");
    const evil = new ApiClient(t.url, FOREIGN_ORIGIN);

    const signup = await evil.post<ApiErrorBody>("/v1/auth/signup", {
      namespace: uniqueName("csrf"),
      email: `${uniqueName("csrf")}@example.com`,
      password: PASSWORD,
    });
    expect(signup.status).toBe(403);
    expect(signup.body.code).toBe("CSRF_REJECTED");
    expect(sessionSetCookie(signup)).toBeNull();

    const login = await evil.post<ApiErrorBody>("/v1/auth/login", {
      login: namespace,
      password: PASSWORD,
    });
    expect(login.status).toBe(403);
    expect(login.body.code).toBe("CSRF_REJECTED");
    expect(sessionSetCookie(login)).toBeNull();

    // Same host but a different port is a different origin too.
    const otherPort = await new ApiClient(t.url, "http://127.0.0.1:1").post<ApiErrorBody>(
      "/v1/auth/login",
      {
        login: namespace,
        password: PASSWORD,
      },
    );
    expect(otherPort.status).toBe(403);

    expect(await count(t, "owners")).toBe(owners);
    expect(await count(t, "sessions")).toBe(sessions);
  });

  test("wrong password and unknown account both → 401 INVALID_CREDENTIALS with the same message", async () => {
    const { namespace, email } = await signUp(t);
    const wrong = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/login", {
      login: namespace,
      password: "not the right password",
    });
    const wrongByEmail = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/login", {
      login: email,
      password: "not the right password",
    });
    const unknownNs = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/login", {
      login: uniqueName("nobody"),
      password: PASSWORD,
    });
    const unknownEmail = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/login", {
      login: `${uniqueName("nobody")}@example.com`,
      password: PASSWORD,
    });
    for (const res of [wrong, wrongByEmail, unknownNs, unknownEmail]) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe("INVALID_CREDENTIALS");
      expect(res.body.error).toBe(wrong.body.error);
      expect(sessionSetCookie(res)).toBeNull();
      expect(JSON.stringify(res.body)).not.toContain("not the right password");
    }
    expect(typeof wrong.body.error).toBe("string");
    expect(wrong.body.error.length).toBeGreaterThan(0);
  });

  test("me: 401 UNAUTHORIZED without a cookie, with a garbage cookie, and with Basic auth", async () => {
    const none = await new ApiClient(t.url).get<ApiErrorBody>("/v1/auth/me");
    expect(none.status).toBe(401);
    expect(none.body.code).toBe("UNAUTHORIZED");

    const garbage = await bareClient(t, "garbage-not-a-session").get<ApiErrorBody>("/v1/auth/me");
    expect(garbage.status).toBe(401);
    expect(garbage.body.code).toBe("UNAUTHORIZED");

    const { client } = await signUp(t);
    const basic = await client.get<ApiErrorBody>("/v1/auth/me", {
      authorization: "Basic x",
      cookie: "sigilum_session=garbage",
    });
    expect(basic.status).toBe(401);
    expect(basic.body.code).toBe("UNAUTHORIZED");
    const basicOnly = await new ApiClient(t.url).get<ApiErrorBody>("/v1/auth/me", {
      authorization: "Basic x",
    });
    expect(basicOnly.status).toBe(401);
    expect(basicOnly.body.code).toBe("UNAUTHORIZED");

    // The real cookie still works, so the 401s above are about the credentials, not the route.
    expect((await client.get<UserBody>("/v1/auth/me")).status).toBe(200);
  });

  test("logout revokes the session server-side and clears the cookie", async () => {
    const { client, user } = await signUp(t);
    const cookie = client.cookie!;
    expect(await count(t, "sessions", "owner_id = ?", [user.id])).toBe(1);

    const out = await client.post<Ok>("/v1/auth/logout");
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ ok: true });
    const cleared = sessionSetCookie(out);
    expect(cleared).not.toBeNull();
    expect(cleared!.value).toBe("");
    expect(cleared!.attrs.get("max-age")).toBe("0");

    // Replaying the old cookie value (as an attacker who kept it would) is refused.
    const replay = await meWithCookie(t, cookie);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { code: string }).code).toBe("UNAUTHORIZED");
    expect(await count(t, "sessions", "owner_id = ?", [user.id])).toBe(0);
  });
});

describe("signup closed", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { SIGILUM_SIGNUP: "closed" } });
  });
  afterAll(() => t.close());

  test("SIGILUM_SIGNUP=closed → 403 SIGNUP_DISABLED and no row written", async () => {
    const client = new ApiClient(t.url, t.origin);
    const res = await client.post<ApiErrorBody>("/v1/auth/signup", {
      namespace: uniqueName("closed"),
      email: `${uniqueName("closed")}@example.com`,
      password: PASSWORD,
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("SIGNUP_DISABLED");
    expect(sessionSetCookie(res)).toBeNull();
    expect(client.cookie).toBeNull();
    expect(await count(t, "owners")).toBe(0);
    expect(await count(t, "sessions")).toBe(0);
  });

  test("GET /v1/auth/signup tells a signed-out visitor that sign-up is closed, before any attempt", async () => {
    const res = await new ApiClient(t.url, t.origin).get<{ signup: string }>("/v1/auth/signup");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ signup: "closed" });
  });
});

describe("signup open (the default)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  test("GET /v1/auth/signup → open, without credentials", async () => {
    const res = await new ApiClient(t.url, t.origin).get<{ signup: string }>("/v1/auth/signup");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ signup: "open" });
  });
});

describe("https public URL", () => {
  const PUBLIC = "https://registry.example.com";
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { SIGILUM_PUBLIC_URL: PUBLIC } });
  });
  afterAll(() => t.close());

  test("the cookie is Secure and unsafe cookie requests need Origin equal to the public origin", async () => {
    // The loopback origin is not the configured public origin, so signing up from it is refused.
    const fromLoopback = await new ApiClient(t.url, t.origin).post<ApiErrorBody>(
      "/v1/auth/signup",
      {
        namespace: uniqueName("pub"),
        email: `${uniqueName("pub")}@example.com`,
        password: PASSWORD,
      },
    );
    expect(fromLoopback.status).toBe(403);
    expect(fromLoopback.body.code).toBe("CSRF_REJECTED");

    const client = new ApiClient(t.url, PUBLIC);
    const res = await client.post<UserBody>("/v1/auth/signup", {
      namespace: uniqueName("pub"),
      email: `${uniqueName("pub")}@example.com`,
      password: PASSWORD,
    });
    expect(res.status).toBe(201);
    const cookie = sessionSetCookie(res);
    expect(cookie?.attrs.has("secure")).toBe(true);
    expect(cookie?.attrs.has("httponly")).toBe(true);
    expect(cookie?.attrs.get("samesite")?.toLowerCase()).toBe("lax");

    const slug = uniqueName("svc");
    const wrongOrigin = await client.post<ApiErrorBody>(
      "/v1/services",
      { slug, name: "S" },
      { origin: t.origin },
    );
    expect(wrongOrigin.status).toBe(403);
    expect(wrongOrigin.body.code).toBe("CSRF_REJECTED");
    expect(await count(t, "services", "slug = ?", [slug])).toBe(0);

    const rightOrigin = await client.post<Service>("/v1/services", { slug, name: "S" });
    expect(rightOrigin.status).toBe(201);
    expect(await count(t, "services", "slug = ?", [slug])).toBe(1);
  });
});

describe("auth rate limits (SIGILUM_RATE_LIMIT_AUTH=3)", () => {
  const clock = new ManualClock();
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      clock,
      env: { SIGILUM_RATE_LIMIT_AUTH: "3", SIGILUM_TRUST_PROXY: "true" },
    });
  });
  afterAll(() => t.close());

  function expectRateLimited(res: JsonResponse<unknown>): void {
    expectError(res, 429, "RATE_LIMITED");
    const retryAfter = res.headers.get("retry-after");
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  }

  const signupBody = (namespace: string) => ({
    namespace,
    email: `${namespace}@example.com`,
    password: PASSWORD,
  });

  test("signup: the 4th attempt from one IP in a minute → 429 with Retry-After; the window then resets", async () => {
    const client = new ApiClient(t.url, t.origin);
    const first = uniqueName("rl");
    expect((await client.post<UserBody>("/v1/auth/signup", signupBody(first))).status).toBe(201);
    // Failed attempts count too.
    expect((await client.post<ApiErrorBody>("/v1/auth/signup", signupBody(first))).status).toBe(
      409,
    );
    expect((await client.post<ApiErrorBody>("/v1/auth/signup", signupBody(first))).status).toBe(
      409,
    );
    const fourth = uniqueName("rl");
    const limited = await client.post<ApiErrorBody>("/v1/auth/signup", signupBody(fourth));
    expectRateLimited(limited);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(await count(t, "owners", "namespace = ?", [fourth])).toBe(0);

    clock.advance(30_000);
    const later = await client.post<ApiErrorBody>("/v1/auth/signup", signupBody(fourth));
    expectRateLimited(later);
    expect(later.headers.get("retry-after")).toBe("30");

    clock.advance(31_000);
    expect((await client.post<UserBody>("/v1/auth/signup", signupBody(fourth))).status).toBe(201);
    expect(await count(t, "owners", "namespace = ?", [fourth])).toBe(1);
  });

  test("login: the 4th attempt from one IP → 429 even with the right password", async () => {
    clock.advance(61_000);
    const { namespace } = await signUpAt(t, "10.9.0.1");
    const client = new ApiClient(t.url, t.origin);
    const wrong = { password: "wrong password!" };
    expect(
      (await client.post<ApiErrorBody>("/v1/auth/login", { login: namespace, ...wrong })).status,
    ).toBe(401);
    expect(
      (await client.post<ApiErrorBody>("/v1/auth/login", { login: "someone-else", ...wrong }))
        .status,
    ).toBe(401);
    expect(
      (await client.post<ApiErrorBody>("/v1/auth/login", { login: "x@example.com", ...wrong }))
        .status,
    ).toBe(401);
    const limited = await client.post<ApiErrorBody>("/v1/auth/login", {
      login: namespace,
      password: PASSWORD,
    });
    expectRateLimited(limited);
    expect(sessionSetCookie(limited)).toBeNull();
    // Another IP is not affected by this IP's window.
    const elsewhere = await client.post<UserBody>(
      "/v1/auth/login",
      { login: namespace, password: PASSWORD },
      { "x-forwarded-for": "10.9.0.2" },
    );
    expect(elsewhere.status).toBe(200);
  });

  test("login: failures on one account from other IPs do not stop the owner (loginThrottle.test.ts has the rest)", async () => {
    clock.advance(16 * 60_000);
    const { namespace } = await signUpAt(t, "10.8.0.1");
    const client = new ApiClient(t.url, t.origin);
    for (const ip of ["10.8.1.1", "10.8.1.2", "10.8.1.3"]) {
      const res = await client.post<ApiErrorBody>(
        "/v1/auth/login",
        { login: namespace, password: "wrong password!" },
        { "x-forwarded-for": ip },
      );
      expect(res.status).toBe(401);
    }
    const owner = await client.post<UserBody>(
      "/v1/auth/login",
      { login: namespace.toUpperCase(), password: PASSWORD },
      { "x-forwarded-for": "10.8.1.4" },
    );
    expect(owner.status).toBe(200);
  });

  test("login: email and namespace spellings of one account share one (account, IP) failure budget", async () => {
    clock.advance(16 * 60_000);
    const { namespace } = await signUpAt(t, "10.7.0.1");
    const client = new ApiClient(t.url, t.origin);
    const ip = { "x-forwarded-for": "10.7.1.1" };
    for (const login of [
      namespace,
      `${namespace}@example.com`,
      `${namespace.toUpperCase()}@EXAMPLE.COM`,
    ]) {
      const res = await client.post<ApiErrorBody>(
        "/v1/auth/login",
        { login, password: "wrong password!" },
        ip,
      );
      expect(res.status).toBe(401);
    }
    // A new minute resets the IP's attempts, not the pair's failures.
    clock.advance(61_000);
    const limited = await client.post<ApiErrorBody>(
      "/v1/auth/login",
      { login: `${namespace}@example.com`, password: PASSWORD },
      ip,
    );
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe("RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(60);
  });

  test("the per-IP limit keys on the proxy-appended (right-most) X-Forwarded-For entry, not a spoofable first one", async () => {
    clock.advance(61_000);
    const client = new ApiClient(t.url, t.origin);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await client.post<ApiErrorBody>(
        "/v1/auth/login",
        { login: uniqueName("nobody"), password: "wrong password!" },
        { "x-forwarded-for": `203.0.113.${i}, 10.6.0.1` },
      );
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

async function signUpAt(t: TestServer, ip: string) {
  const namespace = uniqueName("rl");
  const res = await new ApiClient(t.url, t.origin).post<UserBody>(
    "/v1/auth/signup",
    { namespace, email: `${namespace}@example.com`, password: PASSWORD },
    { "x-forwarded-for": ip },
  );
  expect(res.status).toBe(201);
  return { namespace };
}

describe("account deletion and secrets in logs", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  async function ownerWithEverything() {
    const owner = await signUp(t);
    const token = await owner.client.post<TokenCreated>("/v1/auth/tokens", { name: "ci" });
    expect(token.status).toBe(201);
    const service = await owner.client.post<Service>("/v1/services", {
      slug: uniqueName("svc"),
      name: "Service",
    });
    expect(service.status).toBe(201);
    const key = await owner.client.post<ApiKeyCreated>(`/v1/services/${service.body.id}/keys`);
    expect(key.status).toBe(201);
    const hook = await owner.client.post<WebhookCreated>(
      `/v1/services/${service.body.id}/webhooks`,
      {
        url: "https://hooks.example.com/x",
      },
    );
    expect(hook.status).toBe(201);
    return {
      ...owner,
      token: token.body.token as string,
      serviceId: service.body.id as string,
      slug: service.body.slug as string,
      apiKey: key.body.key as string,
      webhookSecret: hook.body.secret as string,
    };
  }

  async function owned(ownerId: string, serviceId: string) {
    return {
      owners: await count(t, "owners", "id = ?", [ownerId]),
      sessions: await count(t, "sessions", "owner_id = ?", [ownerId]),
      tokens: await count(t, "personal_access_tokens", "owner_id = ?", [ownerId]),
      passkeys: await count(t, "passkeys", "owner_id = ?", [ownerId]),
      services: await count(t, "services", "owner_id = ?", [ownerId]),
      keys: await count(t, "api_keys", "service_id = ?", [serviceId]),
      webhooks: await count(t, "webhooks", "service_id = ?", [serviceId]),
    };
  }

  test("DELETE /v1/auth/account removes everything the owner has, revokes credentials, frees the namespace", async () => {
    const victim = await ownerWithEverything();
    const bystander = await ownerWithEverything();
    const cookie = victim.client.cookie!;
    expect(await owned(victim.user.id, victim.serviceId)).toEqual({
      owners: 1,
      sessions: 1,
      tokens: 1,
      passkeys: 0,
      services: 1,
      keys: 1,
      webhooks: 1,
    });
    const bystanderBefore = await owned(bystander.user.id, bystander.serviceId);

    // Cookie deletion needs our Origin like any unsafe call; without it nothing is deleted.
    const csrf = await bareClient(t, cookie).delete<ApiErrorBody>("/v1/auth/account");
    expect(csrf.status).toBe(403);
    expect(csrf.body.code).toBe("CSRF_REJECTED");
    expect((await owned(victim.user.id, victim.serviceId)).owners).toBe(1);

    const res = await victim.client.delete<Deleted>("/v1/auth/account");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: victim.user.id, deleted: true });
    const cleared = sessionSetCookie(res);
    expect(cleared?.value).toBe("");

    expect(await owned(victim.user.id, victim.serviceId)).toEqual({
      owners: 0,
      sessions: 0,
      tokens: 0,
      passkeys: 0,
      services: 0,
      keys: 0,
      webhooks: 0,
    });
    // Someone else's things are untouched.
    expect(await owned(bystander.user.id, bystander.serviceId)).toEqual(bystanderBefore);
    expect(
      (await bystander.client.get<Service>(`/v1/services/${bystander.serviceId}`)).status,
    ).toBe(200);

    expect((await meWithCookie(t, cookie)).status).toBe(401);
    expect((await meWithBearer(t, victim.token)).status).toBe(401);

    // The namespace (and email) can be registered again, as a brand-new account.
    const again = new ApiClient(t.url, t.origin);
    const signup = await again.post<UserBody>("/v1/auth/signup", {
      namespace: victim.namespace,
      email: victim.email,
      password: PASSWORD,
    });
    expect(signup.status).toBe(201);
    expect(signup.body.user.id).not.toBe(victim.user.id);
    const services = await again.get<ServiceList>("/v1/services");
    expect(services.status).toBe(200);
    expect(services.body.services).toEqual([]);
    // The old cookie does not log into the new account with the same namespace.
    expect((await meWithCookie(t, cookie)).status).toBe(401);
    // And the freed slug is available again too.
    const reuse = await again.post<Service>("/v1/services", { slug: victim.slug, name: "Again" });
    expect(reuse.status).toBe(201);
  });

  test("no password, cookie, PAT, API key or webhook secret ever appears in the logs", async () => {
    const password = `Pw-${crypto.randomUUID()}`;
    const wrongPassword = `Wrong-${crypto.randomUUID()}`;
    const namespace = uniqueName("logs");
    const client = new ApiClient(t.url, t.origin);
    const signup = await client.post<UserBody>("/v1/auth/signup", {
      namespace,
      email: `${namespace}@example.com`,
      password,
    });
    expect(signup.status).toBe(201);
    const signupCookie = client.cookie!;
    const failed = await new ApiClient(t.url).post<ApiErrorBody>("/v1/auth/login", {
      login: namespace,
      password: wrongPassword,
    });
    expect(failed.status).toBe(401);
    const loginClient = new ApiClient(t.url, t.origin);
    expect(
      (await loginClient.post<UserBody>("/v1/auth/login", { login: namespace, password })).status,
    ).toBe(200);
    const loginCookie = loginClient.cookie!;

    const pat = await client.post<TokenCreated>("/v1/auth/tokens", { name: "logs" });
    expect(pat.status).toBe(201);
    const token: string = pat.body.token;
    expect((await meWithBearer(t, token)).status).toBe(200);
    // A failing use of a near-miss token must not be logged either.
    const nearMiss = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    expect((await meWithBearer(t, nearMiss)).status).toBe(401);

    const service = await client.post<Service>("/v1/services", {
      slug: uniqueName("svc"),
      name: "S",
    });
    const key = await client.post<ApiKeyCreated>(`/v1/services/${service.body.id}/keys`);
    expect(key.status).toBe(201);
    const hook = await client.post<WebhookCreated>(`/v1/services/${service.body.id}/webhooks`, {
      url: "https://hooks.example.com/x",
    });
    expect(hook.status).toBe(201);
    const pwChange = await loginClient.post<Ok>("/v1/auth/password", {
      current_password: password,
      new_password: `${password}-new`,
    });
    expect(pwChange.status).toBe(200);

    // The log really captured these requests (so the assertion below is not vacuous).
    const routes = t.logs.map((l) => JSON.parse(l).route);
    for (const route of ["/v1/auth/signup", "/v1/auth/login", "/v1/auth/me", "/v1/auth/tokens"]) {
      expect(routes).toContain(route);
    }
    const secrets = {
      password,
      wrongPassword,
      newPassword: `${password}-new`,
      signupCookie,
      loginCookie,
      token,
      nearMiss,
      tokenBody: token.slice(16),
      apiKey: key.body.key as string,
      apiKeyBody: (key.body.key as string).slice(16),
      webhookSecret: hook.body.secret as string,
    };
    const text = t.logs.join("\n");
    for (const [name, secret] of Object.entries(secrets)) {
      expect({ name, leaked: text.includes(secret) }).toEqual({ name, leaked: false });
    }
  });
});
