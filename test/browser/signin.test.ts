// Signed-out dashboard: the shell and its security headers, the sign-in and sign-up pages,
// password sign-up and sign-in through the page, sign-out, closed sign-up (dashboard.md §1, §2.1).
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import {
  type BrowserSession,
  checkPage,
  dashboardUrl,
  describeBrowser,
  launchBrowser,
} from "../helpers/browser.ts";
import {
  ApiClient,
  PASSWORD,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import {
  expectHeading,
  expectPath,
  signInWithPassword,
  signOut,
  signUpWithPassword,
  UI_TIMEOUT,
} from "./flows.ts";

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function expectSecurityHeaders(headers: Headers, what: string): void {
  expect({ what, csp: headers.get("content-security-policy") }).toEqual({ what, csp: CSP });
  expect({
    what,
    nosniff: headers.get("x-content-type-options"),
    referrer: headers.get("referrer-policy"),
    frame: headers.get("x-frame-options"),
    hsts: headers.get("strict-transport-security"),
  }).toEqual({ what, nosniff: "nosniff", referrer: "same-origin", frame: "DENY", hsts: null });
}

describeBrowser("signing in and out of the dashboard", () => {
  let t: TestServer;
  let browser: BrowserSession;
  let page: Page;
  let base: string;
  const cspErrors: string[] = [];
  const namespace = uniqueName("web");

  beforeAll(async () => {
    t = await startTestServer();
    base = dashboardUrl(t);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.on("console", (msg) => {
      if (/Content.Security.Policy/i.test(msg.text())) cspErrors.push(msg.text());
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  test("the shell, for any non-API path, carries the security headers; its assets are hashed and immutable", async () => {
    for (const path of ["/", "/signin", "/services", "/agents/claim_x", "/no/such/page"]) {
      const res = await fetch(`${t.url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expectSecurityHeaders(res.headers, path);
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i); // no inline script
    }
    const html = await (await fetch(`${t.url}/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      const res = await fetch(`${t.url}${asset}`);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
      expect(asset).toMatch(/[-.][0-9a-zA-Z_-]{6,}\.(js|css)$/);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
    const api404 = await fetch(`${t.url}/v1/no-such-route`);
    expect(api404.status).toBe(404);
    expect(api404.headers.get("content-type")).toMatch(/^application\/json/);
  });

  test("a signed-out visitor of any page is sent to /signin", async () => {
    for (const path of ["/", "/services", "/account"]) {
      await page.goto(`${base}${path}`);
      await expectPath(page, "/signin");
      await expectHeading(page, "Sign in");
    }
    await page.getByRole("button", { name: "Sign in with a passkey" }).waitFor({
      timeout: UI_TIMEOUT,
    });
    await page.getByRole("button", { name: "Sign in with password" }).waitFor({
      timeout: UI_TIMEOUT,
    });
    await checkPage(page, "signin", { mobile: true });
    await page.getByRole("link", { name: "Create an account" }).click();
    await expectPath(page, "/signup");
    await expectHeading(page, "Create an account");
    await page.getByRole("button", { name: "Sign up with a passkey" }).waitFor({
      timeout: UI_TIMEOUT,
    });
    await checkPage(page, "signup", { mobile: true });
    await page.getByText("Use a password instead").click();
    await page.getByRole("button", { name: "Sign up with password" }).waitFor({
      timeout: UI_TIMEOUT,
    });
    await checkPage(page, "signup-password");
    await page.getByRole("link", { name: "Sign in instead" }).click();
    await expectPath(page, "/signin");
  });

  test("sign up with a password, sign out, a wrong password shows the API's message, then sign in", async () => {
    await signUpWithPassword(page, base, namespace);
    await signOut(page);
    await page.goto(`${base}/services`);
    await expectPath(page, "/signin");

    await page.getByLabel("Email or namespace", { exact: true }).fill(namespace);
    await page.getByLabel("Password", { exact: true }).fill("not the password at all");
    await page.getByRole("button", { name: "Sign in with password" }).click();
    const refused = await new ApiClient(t.url).post<{ error: string; code: string }>(
      "/v1/auth/login",
      { login: namespace, password: "not the password at all" },
    );
    expect(refused.body.code).toBe("INVALID_CREDENTIALS");
    await page.getByRole("alert").filter({ hasText: refused.body.error }).waitFor({
      timeout: UI_TIMEOUT,
    });
    await checkPage(page, "signin-error");
    expect(new URL(page.url()).pathname).toBe("/signin");

    await signInWithPassword(page, base, `${namespace}@example.com`);
    await signOut(page);
  });

  test("sign-up errors from the API show next to the field", async () => {
    await page.goto(`${base}/signup`);
    await page.getByLabel("Namespace", { exact: true }).fill(namespace); // taken above
    await page.getByLabel("Email", { exact: true }).fill(`other-${namespace}@example.com`);
    await page.getByText("Use a password instead").click();
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Sign up with password" }).click();
    const taken = await new ApiClient(t.url).post<{ error: string; code: string }>(
      "/v1/auth/signup",
      { namespace, email: `other-${namespace}@example.com`, password: PASSWORD },
    );
    expect(taken.body.code).toBe("NAMESPACE_TAKEN");
    await page.getByText(taken.body.error).first().waitFor({ timeout: UI_TIMEOUT });
    expect(new URL(page.url()).pathname).toBe("/signup");
  });

  test("no Content-Security-Policy violation was reported by the browser", () => {
    expect(cspErrors).toEqual([]);
  });

  test("closed sign-up says so up front, before any attempt, and offers no form", async () => {
    const closed = await startTestServer({ env: { SIGILUM_SIGNUP: "closed" } });
    try {
      const status = await new ApiClient(closed.url).get<{ signup: string }>("/v1/auth/signup");
      expect(status.body).toEqual({ signup: "closed" });
      await page.goto(`${dashboardUrl(closed)}/signup`);
      await page
        .getByRole("alert")
        .filter({ hasText: /closed/i })
        .waitFor({ timeout: UI_TIMEOUT });
      expect(await page.getByRole("main").textContent()).toContain("sigilum owner create");
      expect(await page.getByRole("button", { name: "Sign up with a passkey" }).count()).toBe(0);
      expect(await page.getByLabel("Namespace", { exact: true }).count()).toBe(0);
      await checkPage(page, "signup-closed");
    } finally {
      await closed.close();
    }
  });
});
