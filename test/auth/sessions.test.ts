import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  ApiClient,
  ManualClock,
  PASSWORD,
  signUp,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import type {
  ApiErrorBody,
  Deleted,
  Ok,
  Service,
  ServiceList,
  SessionList,
  TokenCreated,
  UserBody,
} from "../helpers/types.ts";
import {
  bareClient,
  count,
  DAY,
  HOUR,
  ISO_MS,
  meWithCookie,
  rows,
  sessionSetCookie,
  sha256Hex,
} from "./support.ts";

interface SessionItem {
  id: string;
  created_at: string;
  last_renewed_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

/** Signs in on a fresh client; `T` is the expected answer (the user, or an error body). */
async function login<T = UserBody>(
  t: TestServer,
  loginName: string,
  password = PASSWORD,
  userAgent?: string,
) {
  const client = new ApiClient(t.url, t.origin);
  const res = await client.post<T>(
    "/v1/auth/login",
    { login: loginName, password },
    userAgent ? { "user-agent": userAgent } : {},
  );
  return { client, res };
}

describe("sessions, password change, CSRF", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  test("the session list shows every session, exactly one marked current; ending another one revokes it", async () => {
    const alice = await signUp(t);
    const second = await login(t, alice.namespace, PASSWORD, "second-device/1.0");
    expect(second.res.status).toBe(200);
    const a = alice.client;
    const b = second.client;

    const listA = await a.get<SessionList>("/v1/auth/sessions");
    expect(listA.status).toBe(200);
    const sessionsA: SessionItem[] = listA.body.sessions;
    expect(sessionsA).toHaveLength(2);
    expect(listA.body.pagination).toEqual({ limit: 50, offset: 0, total: 2, has_more: false });
    expect(sessionsA.filter((s) => s.current)).toHaveLength(1);
    for (const s of sessionsA) {
      expect(s.id).toMatch(/^ses_[0-9A-Za-z]{20}$/);
      expect(s.created_at).toMatch(ISO_MS);
      expect(s.expires_at).toMatch(ISO_MS);
      expect(s.ip).toBe("127.0.0.1");
    }
    const currentA = sessionsA.find((s) => s.current)!;
    const other = sessionsA.find((s) => !s.current)!;
    expect(other.user_agent).toBe("second-device/1.0");
    // From B's point of view, the other session is the current one.
    const listB = await b.get<SessionList>("/v1/auth/sessions");
    const currentB = (listB.body.sessions as SessionItem[]).filter((s) => s.current);
    expect(currentB.map((s) => s.id)).toEqual([other.id]);
    // No secret in the listing.
    expect(JSON.stringify(listA.body)).not.toContain(a.cookie!);
    expect(JSON.stringify(listA.body)).not.toContain(b.cookie!);

    const bCookie = b.cookie!;
    const ended = await a.delete<Deleted>(`/v1/auth/sessions/${other.id}`);
    expect(ended.status).toBe(200);
    expect(ended.body).toEqual({ id: other.id, deleted: true });
    // A keeps its cookie (ending another session must not clear the caller's cookie).
    expect(sessionSetCookie(ended)).toBeNull();

    expect((await meWithCookie(t, bCookie)).status).toBe(401);
    expect((await a.get<UserBody>("/v1/auth/me")).status).toBe(200);
    const after = await a.get<SessionList>("/v1/auth/sessions");
    expect((after.body.sessions as SessionItem[]).map((s) => s.id)).toEqual([currentA.id]);

    // Ending it again, or an id that never existed → 404.
    const again = await a.delete<ApiErrorBody>(`/v1/auth/sessions/${other.id}`);
    expect(again.status).toBe(404);
    expect(again.body.code).toBe("NOT_FOUND");
    expect((await a.delete<ApiErrorBody>("/v1/auth/sessions/ses_doesnotexist000000")).status).toBe(
      404,
    );
  });

  test("another owner's session id → 404 NOT_FOUND and that session keeps working", async () => {
    const alice = await signUp(t);
    const mallory = await signUp(t);
    const aliceSessions = await alice.client.get<SessionList>("/v1/auth/sessions");
    const aliceSessionId: string = aliceSessions.body.sessions[0]!.id;

    const res = await mallory.client.delete<ApiErrorBody>(`/v1/auth/sessions/${aliceSessionId}`);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe("NOT_FOUND");
    expect((await alice.client.get<UserBody>("/v1/auth/me")).status).toBe(200);
    expect(await count(t, "sessions", "id = ?", [aliceSessionId])).toBe(1);
    // Mallory's list shows only Mallory's session.
    const list = await mallory.client.get<SessionList>("/v1/auth/sessions");
    expect((list.body.sessions as SessionItem[]).map((s) => s.id)).not.toContain(aliceSessionId);
    expect(list.body.sessions).toHaveLength(1);
  });

  test("ending the current session via DELETE /sessions/{id} clears the cookie and revokes it", async () => {
    const { client } = await signUp(t);
    const cookie = client.cookie!;
    const list = await client.get<SessionList>("/v1/auth/sessions");
    const id: string = list.body.sessions[0]!.id;
    const res = await client.delete<Deleted>(`/v1/auth/sessions/${id}`);
    expect(res.status).toBe(200);
    expect(sessionSetCookie(res)?.value).toBe("");
    expect((await meWithCookie(t, cookie)).status).toBe(401);
  });

  test("sessions are stored only as a SHA-256 of the cookie", async () => {
    const { client, user } = await signUp(t);
    const cookie = client.cookie!;
    const stored = await rows(t, "SELECT * FROM sessions WHERE owner_id = ?", [user.id]);
    expect(stored).toHaveLength(1);
    const row = stored[0]!;
    expect(row.token_hash).toBe(sha256Hex(cookie));
    for (const [column, value] of Object.entries(row)) {
      expect({ column, leaked: String(value).includes(cookie) }).toEqual({
        column,
        leaked: false,
      });
    }
    // The hash itself is not a credential.
    expect((await meWithCookie(t, String(row.token_hash))).status).toBe(401);
  });

  test("password change: wrong current → 401; success ends the other sessions, keeps this one, swaps passwords", async () => {
    const owner = await signUp(t);
    const other = await login(t, owner.namespace);
    expect(other.res.status).toBe(200);
    const otherCookie = other.client.cookie!;
    const newPassword = "a brand new passphrase";

    const wrong = await owner.client.post<ApiErrorBody>("/v1/auth/password", {
      current_password: "definitely not it",
      new_password: newPassword,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe("INVALID_CREDENTIALS");
    // A failed attempt changes nothing: the other session still works.
    expect((await meWithCookie(t, otherCookie)).status).toBe(200);

    const short = await owner.client.post<ApiErrorBody>("/v1/auth/password", {
      current_password: PASSWORD,
      new_password: "123456789",
    });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe("VALIDATION_ERROR");
    expect(short.body.details!.map((d: { field: string }) => d.field)).toEqual(["new_password"]);

    const missing = await owner.client.post<ApiErrorBody>("/v1/auth/password", {
      new_password: newPassword,
    });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe("VALIDATION_ERROR");

    const ok = await owner.client.post<Ok>("/v1/auth/password", {
      current_password: PASSWORD,
      new_password: newPassword,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true });

    expect((await meWithCookie(t, otherCookie)).status).toBe(401);
    expect((await owner.client.get<UserBody>("/v1/auth/me")).status).toBe(200);
    expect(await count(t, "sessions", "owner_id = ?", [owner.user.id])).toBe(1);

    const oldPw = await login<ApiErrorBody>(t, owner.namespace, PASSWORD);
    expect(oldPw.res.status).toBe(401);
    expect(oldPw.res.body.code).toBe("INVALID_CREDENTIALS");
    const newPw = await login(t, owner.email, newPassword);
    expect(newPw.res.status).toBe(200);
    expect(newPw.res.body.user.id).toBe(owner.user.id);
  });

  describe("CSRF on cookie-authenticated unsafe requests", () => {
    let owner: Awaited<ReturnType<typeof signUp>>;
    let cookie: string;
    let pat: string;
    let serviceId: string;

    beforeAll(async () => {
      owner = await signUp(t);
      cookie = owner.client.cookie!;
      const token = await owner.client.post<TokenCreated>("/v1/auth/tokens", { name: "csrf" });
      expect(token.status).toBe(201);
      pat = token.body.token;
      const svc = await owner.client.post<Service>("/v1/services", {
        slug: uniqueName("csrf"),
        name: "S",
      });
      expect(svc.status).toBe(201);
      serviceId = svc.body.id;
    });

    const servicesWithSlug = (slug: string) => count(t, "services", "slug = ?", [slug]);

    test("POST without Origin, with a foreign Origin, or with a cross-site fetch → 403, nothing created", async () => {
      const cases: Record<string, string>[] = [
        {},
        { origin: "https://evil.example" },
        { origin: "null" },
        { origin: `${t.origin}.evil.example` },
        { "sec-fetch-site": "cross-site" },
        { "sec-fetch-site": "same-site" },
        { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      ];
      for (const headers of cases) {
        const slug = uniqueName("csrf");
        const res = await bareClient(t, cookie).post<ApiErrorBody>(
          "/v1/services",
          { slug, name: "S" },
          headers,
        );
        expect({ headers, status: res.status, code: res.body.code }).toEqual({
          headers,
          status: 403,
          code: "CSRF_REJECTED",
        });
        expect(await servicesWithSlug(slug)).toBe(0);
      }
      // Minting a token is the juiciest CSRF target: refused too, and nothing minted.
      const tokens = await count(t, "personal_access_tokens", "owner_id = ?", [owner.user.id]);
      const mint = await bareClient(t, cookie).post<ApiErrorBody>("/v1/auth/tokens", {
        name: "stolen",
      });
      expect(mint.status).toBe(403);
      expect(mint.body.code).toBe("CSRF_REJECTED");
      expect(JSON.stringify(mint.body)).not.toContain("sgl_pat_");
      expect(await count(t, "personal_access_tokens", "owner_id = ?", [owner.user.id])).toBe(
        tokens,
      );
      // Logging someone out cross-site is refused as well.
      expect((await bareClient(t, cookie).post<ApiErrorBody>("/v1/auth/logout")).status).toBe(403);
      expect((await meWithCookie(t, cookie)).status).toBe(200);
    });

    test("PATCH and DELETE without Origin → 403 and the service is unchanged", async () => {
      const patch = await bareClient(t, cookie).patch<ApiErrorBody>(`/v1/services/${serviceId}`, {
        name: "Hijacked",
      });
      expect(patch.status).toBe(403);
      expect(patch.body.code).toBe("CSRF_REJECTED");
      const del = await bareClient(t, cookie).delete<ApiErrorBody>(
        `/v1/services/${serviceId}`,
        undefined,
        {
          origin: "https://evil.example",
        },
      );
      expect(del.status).toBe(403);
      expect(del.body.code).toBe("CSRF_REJECTED");
      const [row] = await rows(t, "SELECT name FROM services WHERE id = ?", [serviceId]);
      expect(row?.name).toBe("S");
    });

    test("Origin equal to ours, or Sec-Fetch-Site: same-origin without Origin → allowed", async () => {
      const viaOrigin = uniqueName("csrf");
      const a = await bareClient(t, cookie).post<Service>(
        "/v1/services",
        { slug: viaOrigin, name: "S" },
        { origin: t.origin },
      );
      expect(a.status).toBe(201);
      expect(await servicesWithSlug(viaOrigin)).toBe(1);

      const viaFetchSite = uniqueName("csrf");
      const b = await bareClient(t, cookie).post<Service>(
        "/v1/services",
        { slug: viaFetchSite, name: "S" },
        { "sec-fetch-site": "same-origin" },
      );
      expect(b.status).toBe(201);
      expect(await servicesWithSlug(viaFetchSite)).toBe(1);

      const patch = await bareClient(t, cookie).patch<Service>(
        `/v1/services/${serviceId}`,
        { name: "Renamed" },
        { "sec-fetch-site": "same-origin" },
      );
      expect(patch.status).toBe(200);
      expect(patch.body.name).toBe("Renamed");
    });

    test("GET without Origin is allowed (safe method)", async () => {
      const res = await bareClient(t, cookie).get<ServiceList>("/v1/services");
      expect(res.status).toBe(200);
      expect((res.body.services as { id: string }[]).map((s) => s.id)).toContain(serviceId);
    });

    test("a PAT-authenticated POST needs no Origin (not ambient), even with a foreign one", async () => {
      const slug = uniqueName("pat");
      const client = new ApiClient(t.url, null);
      client.bearer = pat;
      const res = await client.post<Service>("/v1/services", { slug, name: "Via token" });
      expect(res.status).toBe(201);
      expect(await servicesWithSlug(slug)).toBe(1);

      const slug2 = uniqueName("pat");
      const foreign = await client.post<Service>(
        "/v1/services",
        { slug: slug2, name: "Via token" },
        { origin: "https://evil.example" },
      );
      expect(foreign.status).toBe(201);
      expect(await servicesWithSlug(slug2)).toBe(1);
    });

    test("an invalid cookie without Origin is 401, not 403 (authentication comes first)", async () => {
      const res = await bareClient(t, "bogus").post<ApiErrorBody>("/v1/services", {
        slug: uniqueName("x"),
        name: "S",
      });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe("UNAUTHORIZED");
    });
  });
});

describe("sliding session expiry (idle 2d, absolute 5d)", () => {
  const clock = new ManualClock();
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      clock,
      env: { SIGILUM_SESSION_IDLE_TTL: "2d", SIGILUM_SESSION_MAX_TTL: "5d" },
    });
  });
  afterAll(() => t.close());

  async function me(cookie: string) {
    const res = await fetch(`${t.url}/v1/auth/me`, {
      headers: { cookie: `sigilum_session=${cookie}` },
    });
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith("sigilum_session="));
    return { status: res.status, setCookie: setCookie ?? null };
  }

  function maxAgeOf(setCookie: string | null): number | null {
    const m = /;\s*max-age=(\d+)/i.exec(setCookie ?? "");
    return m ? Number(m[1]) : null;
  }

  test("a session used every 1.5 days is renewed past the idle limit but dies at the absolute limit", async () => {
    const start = clock.now();
    const { client } = await signUp(t);
    const cookie = client.cookie!;
    const session = await new ApiClient(t.url).get<SessionList>("/v1/auth/sessions", {
      cookie: `sigilum_session=${cookie}`,
    });
    expect(session.body.sessions[0]!.expires_at).toBe(new Date(start + 2 * DAY).toISOString());

    // Within a day of the last renewal: valid, not renewed (no Set-Cookie).
    clock.ms = start + 12 * HOUR;
    let r = await me(cookie);
    expect(r).toEqual({ status: 200, setCookie: null });

    // Day 1.5: renewed; the cookie carries the same value and a fresh 2-day Max-Age.
    clock.ms = start + 1.5 * DAY;
    r = await me(cookie);
    expect(r.status).toBe(200);
    expect(r.setCookie).toStartWith(`sigilum_session=${cookie};`);
    expect(r.setCookie).toContain("HttpOnly");
    expect(maxAgeOf(r.setCookie)).toBe(2 * 86_400);

    // An hour later: not renewed again (at most once a day).
    clock.ms = start + 1.5 * DAY + HOUR;
    expect(await me(cookie)).toEqual({ status: 200, setCookie: null });

    // Day 3: alive although more than 2 days after creation; renewed up to the 5-day limit.
    clock.ms = start + 3 * DAY;
    r = await me(cookie);
    expect(r.status).toBe(200);
    expect(maxAgeOf(r.setCookie)).toBe(2 * 86_400);

    // Day 4.5: renewed, but the idle expiry is capped by the absolute one (half a day left).
    clock.ms = start + 4.5 * DAY;
    r = await me(cookie);
    expect(r.status).toBe(200);
    expect(maxAgeOf(r.setCookie)).toBe(12 * 3600);
    const listed = await new ApiClient(t.url).get<SessionList>("/v1/auth/sessions", {
      cookie: `sigilum_session=${cookie}`,
    });
    expect(listed.body.sessions[0]!.expires_at).toBe(new Date(start + 5 * DAY).toISOString());

    clock.ms = start + 5 * DAY - 1000;
    expect((await me(cookie)).status).toBe(200);

    // Past the absolute limit: gone for good, and the response clears the cookie.
    clock.ms = start + 5 * DAY + 1000;
    r = await me(cookie);
    expect(r.status).toBe(401);
    expect(r.setCookie).toStartWith("sigilum_session=;");
    clock.ms = start + 5 * DAY + 2 * HOUR;
    expect((await me(cookie)).status).toBe(401);
  });

  test("an unused session dies after 2 idle days, while a used one lives on", async () => {
    const start = clock.now();
    const { namespace, client: idle } = await signUp(t);
    const idleCookie = idle.cookie!;
    const active = await login(t, namespace);
    const activeCookie = active.client.cookie!;

    clock.ms = start + 1.5 * DAY;
    expect((await me(activeCookie)).status).toBe(200);

    clock.ms = start + 2 * DAY + 1000;
    const dead = await me(idleCookie);
    expect(dead.status).toBe(401);
    expect((await me(activeCookie)).status).toBe(200);

    // The listing no longer shows the expired one.
    const list = await new ApiClient(t.url).get<SessionList>("/v1/auth/sessions", {
      cookie: `sigilum_session=${activeCookie}`,
    });
    expect(list.body.sessions).toHaveLength(1);
    expect(list.body.sessions[0]!.current).toBe(true);
  });
});
