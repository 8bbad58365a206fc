import { afterEach, describe, expect, test } from "bun:test";
import { PASSWORD, startTestServer, type TestServer, uniqueName } from "../helpers/server.ts";
import { sessionSetCookie } from "./support.ts";

// http-api.md §1.5: `Secure` exactly when the origin the browser uses is https. A Secure cookie on
// a plain-http origin is dropped by the browser, so every later call would be 401.

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Signs up as a browser at `origin` would (Host from the origin), then calls /me with the cookie. */
async function signUpAs(server: TestServer, origin: string, extra: Record<string, string> = {}) {
  const namespace = uniqueName("cookie");
  const host = new URL(origin).host;
  const res = await fetch(`${server.url}/v1/auth/signup`, {
    method: "POST",
    headers: { host, origin, "content-type": "application/json", ...extra },
    body: JSON.stringify({ namespace, email: `${namespace}@example.com`, password: PASSWORD }),
  });
  const cookie = sessionSetCookie({ status: res.status, headers: res.headers, body: null });
  const login = await fetch(`${server.url}/v1/auth/login`, {
    method: "POST",
    headers: { host, origin, "content-type": "application/json", ...extra },
    body: JSON.stringify({ login: namespace, password: PASSWORD }),
  });
  const loginCookie = sessionSetCookie({
    status: login.status,
    headers: login.headers,
    body: null,
  });
  const me = await fetch(`${server.url}/v1/auth/me`, {
    headers: { host, cookie: `sigilum_session=${cookie?.value}`, ...extra },
  });
  return { signup: res.status, login: login.status, cookie, loginCookie, me: me.status };
}

describe("the session cookie's Secure attribute follows the origin's scheme", () => {
  test("plain http on a LAN address (no public URL): 201, a cookie without Secure, and /me works", async () => {
    t = await startTestServer();
    const r = await signUpAs(t, "http://192.168.1.20:8080");
    expect(r.signup).toBe(201);
    expect(r.cookie?.attrs.has("secure")).toBe(false);
    expect(r.login).toBe(200);
    expect(r.loginCookie?.attrs.has("secure")).toBe(false);
    expect(r.me).toBe(200);
  });

  test("SIGILUM_PUBLIC_URL=http://… on a VM: no Secure", async () => {
    t = await startTestServer({ env: { SIGILUM_PUBLIC_URL: "http://sigilum-vm.lan:8080" } });
    const r = await signUpAs(t, "http://sigilum-vm.lan:8080");
    expect(r.signup).toBe(201);
    expect(r.cookie?.attrs.has("secure")).toBe(false);
    expect(r.me).toBe(200);
  });

  test("SIGILUM_PUBLIC_URL=https://… wins over the plain-http request: Secure", async () => {
    t = await startTestServer({ env: { SIGILUM_PUBLIC_URL: "https://registry.example.com" } });
    const r = await signUpAs(t, "https://registry.example.com");
    expect(r.signup).toBe(201);
    expect(r.cookie?.attrs.has("secure")).toBe(true);
    expect(r.loginCookie?.attrs.has("secure")).toBe(true);
  });

  test("X-Forwarded-Proto: https counts only with SIGILUM_TRUST_PROXY", async () => {
    t = await startTestServer({ env: { SIGILUM_TRUST_PROXY: "true" } });
    const proxied = await signUpAs(t, "https://registry.example.com", {
      "x-forwarded-proto": "https",
      "x-forwarded-host": "registry.example.com",
    });
    expect(proxied.signup).toBe(201);
    expect(proxied.cookie?.attrs.has("secure")).toBe(true);
    const plain = await signUpAs(t, "http://registry.example.com", { "x-forwarded-proto": "http" });
    expect(plain.signup).toBe(201);
    expect(plain.cookie?.attrs.has("secure")).toBe(false);
    await t.close();

    t = await startTestServer();
    const untrusted = await signUpAs(t, "http://192.168.1.20:8080", {
      "x-forwarded-proto": "https",
    });
    expect(untrusted.signup).toBe(201);
    expect(untrusted.cookie?.attrs.has("secure")).toBe(false);
    expect(untrusted.me).toBe(200);
  });
});
