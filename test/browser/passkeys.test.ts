// Passkeys for real (dashboard.md §4, §5): Chromium's virtual authenticator on
// http://localhost:<port>; sign up with a passkey, sign out, sign in with it (no username),
// add a second passkey, rename and delete one, and the last credential is refused.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import {
  addVirtualAuthenticator,
  apiAsBrowser,
  type BrowserSession,
  checkPage,
  dashboardUrl,
  describeBrowser,
  launchBrowser,
  type VirtualAuthenticator,
} from "../helpers/browser.ts";
import { type ApiClient, startTestServer, type TestServer, uniqueName } from "../helpers/server.ts";
import {
  confirmDialog,
  dialog,
  eventually,
  expectCount,
  expectHeading,
  expectPath,
  goTo,
  signOut,
  UI_TIMEOUT,
} from "./flows.ts";

interface Passkey {
  id: string;
  name: string;
}

describeBrowser("passkeys in the dashboard", () => {
  let t: TestServer;
  let browser: BrowserSession;
  let page: Page;
  let base: string;
  let first: VirtualAuthenticator;
  let api: ApiClient;
  const namespace = uniqueName("pk");

  async function passkeys(): Promise<Passkey[]> {
    const res = await api.get<{ passkeys: Passkey[] }>("/v1/auth/passkeys");
    expect(res.status).toBe(200);
    return res.body.passkeys;
  }

  beforeAll(async () => {
    t = await startTestServer();
    base = dashboardUrl(t);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    first = await addVirtualAuthenticator(browser.context, page);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  test("sign up with a passkey (no password) → the Inbox", async () => {
    await page.goto(`${base}/signup`);
    await expectHeading(page, "Create an account");
    await page.getByLabel("Namespace", { exact: true }).fill(namespace);
    await page.getByLabel("Email", { exact: true }).fill(`${namespace}@example.com`);
    await page.getByRole("button", { name: "Sign up with a passkey" }).click();
    await expectPath(page, "/");
    await expectHeading(page, "Inbox");
    const stored = await first.credentials();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.isResidentCredential).toBe(true);
    expect(stored[0]!.rpId).toBe("localhost");
    api = await apiAsBrowser(t, browser.context);
    const me = await api.get<{
      user: { namespace: string; has_password: boolean; passkey_count: number };
    }>("/v1/auth/me");
    expect(me.body.user).toMatchObject({ namespace, has_password: false, passkey_count: 1 });
  });

  test("sign out, then sign in with the passkey button alone (no username)", async () => {
    // Off while the sign-in page loads, so its autofill request cannot answer before the click.
    await first.answerAutomatically(false);
    await signOut(page);
    expect((await api.get<unknown>("/v1/auth/me")).status).toBe(401);
    await Bun.sleep(300);
    expect(new URL(page.url()).pathname).toBe("/signin");
    await first.answerAutomatically(true);
    const before = (await first.credentials())[0]!.signCount;
    await page.getByRole("button", { name: "Sign in with a passkey" }).click();
    await expectPath(page, "/");
    await expectHeading(page, "Inbox");
    expect((await first.credentials())[0]!.signCount).toBeGreaterThan(before);
    api = await apiAsBrowser(t, browser.context);
    expect((await api.get<unknown>("/v1/auth/me")).status).toBe(200);
  });

  test("the sign-in page offers the passkey through autofill (a conditional request)", async () => {
    // The authenticator answers the page's conditional request as a person picking the passkey
    // from the autofill list would: signed in with no click and no username.
    const session = async () =>
      (await browser.context.cookies(base)).find((c) => c.name === "sigilum_session")?.value;
    const before = await session();
    await page.getByRole("button", { name: "Sign out" }).click();
    const after = await eventually(session, (v) => v !== undefined && v !== before);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    expect((await api.get<unknown>("/v1/auth/me")).status).toBe(401); // the old session ended
    await expectPath(page, "/");
    await expectHeading(page, "Inbox");
    api = await apiAsBrowser(t, browser.context);
    expect((await api.get<unknown>("/v1/auth/me")).status).toBe(200);
  });

  test("add a second passkey from a new authenticator, rename it, delete the first", async () => {
    await goTo(page, "Account");
    await page.getByRole("heading", { name: "Passkeys" }).waitFor({ timeout: UI_TIMEOUT });
    const deleteButtons = page
      .getByRole("main")
      .getByRole("button", { name: /^Delete(?! account)/ });
    await expectCount(deleteButtons, 1);
    // The server excludes credentials this account already has, and Chromium allows one platform
    // authenticator at a time: the second passkey comes from a new one (as on a new laptop).
    await first.remove();
    const second = await addVirtualAuthenticator(browser.context, page);
    await page.getByRole("button", { name: "Add passkey" }).click();
    await expectCount(deleteButtons, 2);
    expect(await second.credentials()).toHaveLength(1);
    const both = await passkeys();
    expect(both).toHaveLength(2);

    await page
      .getByRole("main")
      .getByRole("button", { name: /^Rename/ })
      .last()
      .click();
    await page.getByLabel("Passkey name", { exact: true }).fill("Backup phone");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Backup phone").first().waitFor({ timeout: UI_TIMEOUT });
    expect((await passkeys()).map((p) => p.name)).toContain("Backup phone");
    await checkPage(page, "account-passkeys", { mobile: true });

    const keep = (await passkeys()).find((p) => p.name === "Backup phone")!;
    const row = page.getByRole("main").locator("li, tr").filter({ hasNotText: "Backup phone" });
    await row
      .getByRole("button", { name: /^Delete(?! account)/ })
      .first()
      .click();
    await confirmDialog(page, "Delete");
    await expectCount(deleteButtons, 1);
    expect((await passkeys()).map((p) => p.id)).toEqual([keep.id]);
  });

  test("deleting the last credential is refused with the API's message", async () => {
    const [last] = await passkeys();
    const refused = await api.delete<{ error: string; code: string }>(
      `/v1/auth/passkeys/${last!.id}`,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("LAST_CREDENTIAL");
    await page
      .getByRole("main")
      .getByRole("button", { name: /^Delete(?! account)/ })
      .first()
      .click();
    await dialog(page).getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByText(refused.body.error).first().waitFor({ timeout: UI_TIMEOUT });
    expect(await passkeys()).toHaveLength(1);
  });
});
