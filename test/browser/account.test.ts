// The account page (dashboard.md §2.8): facts, password, sessions (ending another one),
// personal access tokens (shown once), and deleting the account behind the typed namespace.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import {
  apiAsBrowser,
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
  confirmDialog,
  dialog,
  eventually,
  expectCount,
  expectHeading,
  expectPath,
  goTo,
  signInWithPassword,
  signUpWithPassword,
  UI_TIMEOUT,
} from "./flows.ts";

const NEW_PASSWORD = "a different long passphrase";

describeBrowser("the account page", () => {
  let t: TestServer;
  let browser: BrowserSession;
  let page: Page;
  let base: string;
  let api: ApiClient;
  const namespace = uniqueName("acct");

  beforeAll(async () => {
    t = await startTestServer();
    base = dashboardUrl(t);
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  test("shows the namespace, DID and email", async () => {
    await signUpWithPassword(page, base, namespace);
    api = await apiAsBrowser(t, browser.context);
    const me = await api.get<{ user: { did: string; email: string } }>("/v1/auth/me");
    await goTo(page, "Account");
    const main = page.getByRole("main");
    for (const fact of [namespace, me.body.user.did, me.body.user.email])
      await main.getByText(fact, { exact: true }).first().waitFor({ timeout: UI_TIMEOUT });
    await checkPage(page, "account", { mobile: true });
  });

  test("change the password: the current one is asked for, and the new one signs in", async () => {
    await page.getByLabel("Current password", { exact: true }).fill(PASSWORD);
    await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    const script = new ApiClient(t.url);
    const login = await eventually(
      () => script.post<unknown>("/v1/auth/login", { login: namespace, password: NEW_PASSWORD }),
      (r) => r.status === 200,
    );
    expect(login.status).toBe(200);
    expect((await script.post<unknown>("/v1/auth/logout")).status).toBe(200);
    // Changing the password ends the other sessions, never this one.
    expect((await api.get<unknown>("/v1/auth/me")).status).toBe(200);
  });

  test("sessions: this one is marked, another one is ended from here", async () => {
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await signInWithPassword(otherPage, base, namespace, NEW_PASSWORD);
    const otherApi = await apiAsBrowser(t, other);
    expect((await otherApi.get<unknown>("/v1/auth/me")).status).toBe(200);

    await page.reload();
    await expectHeading(page, "Account");
    await page.getByRole("heading", { name: "Sessions" }).waitFor({ timeout: UI_TIMEOUT });
    await page.getByText("This session").first().waitFor({ timeout: UI_TIMEOUT });
    const end = page.getByRole("button", { name: /^End session/ });
    await expectCount(end, 1);
    await end.click();
    if ((await dialog(page).count()) > 0) await confirmDialog(page, "End session");
    await expectCount(end, 0);
    expect((await otherApi.get<unknown>("/v1/auth/me")).status).toBe(401);
    expect((await api.get<unknown>("/v1/auth/me")).status).toBe(200);
    await otherPage.reload();
    await expectPath(otherPage, "/signin");
    await other.close();
  });

  test("a personal access token is shown once, works as a bearer token, and is revoked", async () => {
    await page.getByRole("heading", { name: "Access tokens" }).waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole("button", { name: "Create token" }).click();
    await page.getByLabel("Name", { exact: true }).fill("ci script");
    await page
      .locator("form")
      .filter({ has: page.getByLabel("Name", { exact: true }) })
      .getByRole("button", { name: /^Create/ })
      .click();
    const shown = page.getByLabel("New access token", { exact: true });
    await shown.waitFor({ timeout: UI_TIMEOUT });
    const token = (await shown.textContent())?.trim() ?? "";
    expect(token.length).toBeGreaterThan(20);
    await checkPage(page, "account-token-created");
    const bearer = new ApiClient(t.url, null);
    bearer.bearer = token;
    expect((await bearer.get<unknown>("/v1/auth/me")).status).toBe(200);
    if ((await dialog(page).count()) > 0) await confirmDialog(page, "Done");
    await page.reload();
    await expectHeading(page, "Account");
    await page.getByText("ci script").first().waitFor({ timeout: UI_TIMEOUT });
    expect(await page.content()).not.toContain(token);

    const row = page.getByRole("main").locator("li, tr").filter({ hasText: "ci script" });
    await row.getByRole("button", { name: /^Revoke/ }).click();
    if ((await dialog(page).count()) > 0) await confirmDialog(page, "Revoke");
    const after = await eventually(
      () => bearer.get<unknown>("/v1/auth/me"),
      (r) => r.status !== 200,
    );
    expect(after.status).toBe(401);
  });

  test("delete the account behind the typed namespace: signed out, the namespace is free again", async () => {
    await page.getByRole("button", { name: "Delete account" }).first().click();
    const confirm = dialog(page);
    await confirm.getByLabel("Type the namespace to confirm", { exact: true }).fill(namespace);
    await checkPage(page, "account-delete-dialog");
    await confirmDialog(page, "Delete account");
    await expectPath(page, /^\/(signin|signup)$/);
    expect((await api.get<unknown>("/v1/auth/me")).status).toBe(401);
    const login = await new ApiClient(t.url).post<unknown>("/v1/auth/login", {
      login: namespace,
      password: NEW_PASSWORD,
    });
    expect(login.status).toBe(401);
    const again = await new ApiClient(t.url).post<unknown>("/v1/auth/signup", {
      namespace,
      email: `${namespace}@example.com`,
      password: PASSWORD,
    });
    expect(again.status).toBe(201);
  });
});
