import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { expectError } from "../helpers/assertions.ts";
import {
  ApiClient,
  type JsonResponse,
  ManualClock,
  PASSWORD,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import type { UserBody } from "../helpers/types.ts";
import { sessionSetCookie } from "./support.ts";

// quality.md §4: rate limits on login that never lock the real owner out; failures count per
// account *and* source. SIGILUM_RATE_LIMIT_AUTH=3 per IP and per (account, IP);
// SIGILUM_RATE_LIMIT_AUTH_ACCOUNT=6 failures a minute on one account from everywhere together.

const WRONG = "wrong password!";

function expectRateLimited(res: JsonResponse<unknown>, maxSeconds: number) {
  expectError(res, 429, "RATE_LIMITED");
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
  expect(sessionSetCookie(res)).toBeNull();
}

describe("password sign-in throttling never locks the owner out", () => {
  const clock = new ManualClock();
  let t: TestServer;
  let client: ApiClient;
  beforeAll(async () => {
    t = await startTestServer({
      clock,
      env: {
        SIGILUM_RATE_LIMIT_AUTH: "3",
        SIGILUM_RATE_LIMIT_AUTH_ACCOUNT: "6",
        SIGILUM_TRUST_PROXY: "true",
      },
    });
    client = new ApiClient(t.url, t.origin);
  });
  afterAll(() => t.close());

  async function signUpFrom(ip: string) {
    clock.advance(16 * 60_000);
    const namespace = uniqueName("thr");
    const res = await client.post<UserBody>(
      "/v1/auth/signup",
      { namespace, email: `${namespace}@example.com`, password: PASSWORD },
      { "x-forwarded-for": ip },
    );
    expect(res.status).toBe(201);
    return { namespace, id: res.body.user.id as string };
  }

  const owner = async (ip: string) => (await signUpFrom(ip)).namespace;

  const login = (login: string, password: string, ip: string) =>
    client.post<UserBody>("/v1/auth/login", { login, password }, { "x-forwarded-for": ip });

  test("an attacker failing from one IP, minute after minute, never stops the owner at another", async () => {
    const namespace = await owner("10.1.0.1");
    for (let minute = 0; minute < 5; minute++) {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await login(namespace, WRONG, "10.66.0.1")).status);
      expect(statuses).toEqual(minute === 0 ? [401, 401, 401, 429] : [429, 429, 429, 429]);
      // The owner, from an address never used before, signs in at once, every minute of it.
      const ok = await login(namespace, PASSWORD, `10.1.1.${minute}`);
      expect(ok.status).toBe(200);
      expect(sessionSetCookie(ok)).not.toBeNull();
      clock.advance(60_000);
    }
  });

  test("from one IP an account gets 3 failures per 15 minutes, even with the right password after", async () => {
    const other = await owner("10.2.0.3");
    const namespace = await owner("10.2.0.1");
    for (let i = 0; i < 3; i++)
      expect((await login(namespace, WRONG, "10.2.0.2")).status).toBe(401);
    clock.advance(61_000);
    // A new minute: the IP has attempts left, but this (account, IP) pair has no failures left.
    expectRateLimited(await login(namespace, PASSWORD, "10.2.0.2"), 15 * 60);
    // Other accounts from that IP, and this account from other IPs, are unaffected.
    expect((await login(other, PASSWORD, "10.2.0.2")).status).toBe(200);
    expect((await login(namespace, PASSWORD, "10.2.0.4")).status).toBe(200);
    clock.advance(15 * 60_000);
    expect((await login(namespace, PASSWORD, "10.2.0.2")).status).toBe(200);
  });

  test("a success clears the pair's failures: typos before signing in do not add up", async () => {
    const namespace = await owner("10.3.0.1");
    for (let round = 0; round < 3; round++) {
      expect((await login(namespace, WRONG, "10.3.0.2")).status).toBe(401);
      expect((await login(namespace, WRONG, "10.3.0.2")).status).toBe(401);
      expect((await login(namespace, PASSWORD, "10.3.0.2")).status).toBe(200);
      clock.advance(61_000);
    }
  });

  test("the per-IP limit still counts attempts across accounts (spraying)", async () => {
    clock.advance(61_000);
    const ip = "10.4.0.1";
    for (let i = 0; i < 3; i++)
      expect((await login(uniqueName("nobody"), WRONG, ip)).status).toBe(401);
    expectRateLimited(await login(uniqueName("nobody"), WRONG, ip), 60);
  });

  test("failures from many IPs hit the account ceiling for new sources only, and only for a minute", async () => {
    const namespace = await owner("10.5.0.1");
    // The owner has signed in from 10.5.0.1 before (sign-up counts), so that source is familiar.
    for (let i = 0; i < 6; i++) {
      expect((await login(`${namespace}@example.com`, WRONG, `10.77.0.${i}`)).status).toBe(401);
    }
    // Email and namespace spellings share one account budget.
    expectRateLimited(await login(namespace.toUpperCase(), PASSWORD, "10.77.1.1"), 60);
    // The familiar source is not subject to the ceiling.
    const familiar = await login(namespace, PASSWORD, "10.5.0.1");
    expect(familiar.status).toBe(200);
    // A short window: a minute later new sources may try again.
    clock.advance(60_000);
    expect((await login(namespace, PASSWORD, "10.77.1.1")).status).toBe(200);
  });

  test("a successful sign-in makes its source familiar", async () => {
    const namespace = await owner("10.6.0.1");
    expect((await login(namespace, PASSWORD, "10.6.0.2")).status).toBe(200);
    clock.advance(61_000);
    for (let i = 0; i < 6; i++)
      expect((await login(namespace, WRONG, `10.78.0.${i}`)).status).toBe(401);
    expectRateLimited(await login(namespace, PASSWORD, "10.6.0.3"), 60);
    expect((await login(namespace, PASSWORD, "10.6.0.2")).status).toBe(200);
  });

  test("a login text spelling the owner's id is another account, not theirs", async () => {
    const { namespace, id } = await signUpFrom("10.9.0.1");
    for (let i = 0; i < 6; i++) expect((await login(id, WRONG, `10.79.0.${i}`)).status).toBe(401);
    expect((await login(namespace, PASSWORD, "10.9.0.2")).status).toBe(200);
  });
});
