// Steps through the dashboard the way an owner does, by role and accessible name only
// (/work/wt/_notes/dashboard-contract.md), shared by the browser test files.
import { expect } from "bun:test";
import type { Locator, Page } from "playwright-core";
import { PASSWORD } from "../helpers/server.ts";

/** Generous for a 2-core CI box, far below the 30 s test timeout. */
export const UI_TIMEOUT = 5_000;

export async function expectHeading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole("heading", { level: 1, name }).waitFor({ timeout: UI_TIMEOUT });
}

export async function expectPath(page: Page, path: string | RegExp): Promise<void> {
  await page.waitForURL(
    (url) => (typeof path === "string" ? url.pathname === path : path.test(url.pathname)),
    {
      timeout: UI_TIMEOUT,
    },
  );
}

/** Waits until `locator` matches exactly `n` elements. */
export async function expectCount(
  locator: Locator,
  n: number,
  timeout = UI_TIMEOUT,
): Promise<void> {
  const deadline = Date.now() + timeout;
  let count = await locator.count();
  while (count !== n && Date.now() < deadline) {
    await Bun.sleep(50);
    count = await locator.count();
  }
  expect(count).toBe(n);
}

/** Waits until `read` returns something `accept`s (bounded); returns the last value read. */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeout = UI_TIMEOUT,
): Promise<T> {
  const deadline = Date.now() + timeout;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await Bun.sleep(50);
    value = await read();
  }
  return value;
}

export async function expectTitle(page: Page, title: string, timeout = UI_TIMEOUT): Promise<void> {
  expect(
    await eventually(
      () => page.title(),
      (v) => v === title,
      timeout,
    ),
  ).toBe(title);
}

/** The form that holds the field labelled `label` (forms reuse their opener's button name). */
export function formWith(page: Page, label: string): Locator {
  return page.locator("form").filter({ has: page.getByLabel(label, { exact: true }) });
}

/** The open <dialog>. */
export function dialog(page: Page): Locator {
  return page.getByRole("dialog");
}

export function nav(page: Page): Locator {
  return page.getByRole("navigation", { name: "Main" });
}

export async function goTo(page: Page, link: string, heading = link): Promise<void> {
  await nav(page).getByRole("link", { name: link, exact: true }).click();
  await expectHeading(page, heading);
}

/** Sign-up through the page with the "Use a password instead" disclosure; lands on the Inbox. */
export async function signUpWithPassword(
  page: Page,
  base: string,
  namespace: string,
  password = PASSWORD,
): Promise<void> {
  await page.goto(`${base}/signup`);
  await expectHeading(page, "Create an account");
  await page.getByLabel("Namespace", { exact: true }).fill(namespace);
  await page.getByLabel("Email", { exact: true }).fill(`${namespace}@example.com`);
  await page.getByText("Use a password instead").click();
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign up with password" }).click();
  await expectPath(page, "/");
  await expectHeading(page, "Inbox");
}

export async function signInWithPassword(
  page: Page,
  base: string,
  login: string,
  password = PASSWORD,
): Promise<void> {
  await page.goto(`${base}/signin`);
  await expectHeading(page, "Sign in");
  await page.getByLabel("Email or namespace", { exact: true }).fill(login);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in with password" }).click();
  await expectPath(page, "/");
  await expectHeading(page, "Inbox");
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expectPath(page, "/signin");
  await expectHeading(page, "Sign in");
}

/** Confirms the open dialog with its button named `name`, and waits for it to close. */
export async function confirmDialog(page: Page, name: string): Promise<void> {
  const open = dialog(page);
  await open.waitFor({ timeout: UI_TIMEOUT });
  await open.getByRole("button", { name, exact: true }).click();
  await open.waitFor({ state: "hidden", timeout: UI_TIMEOUT });
}

/** Buttons named "Approve…"/"Reject…" per row, but not the bulk "… selected" ones. */
export function rowButtons(page: Page, verb: "Approve" | "Reject"): Locator {
  return page.getByRole("main").getByRole("button", { name: new RegExp(`^${verb}(?! selected)`) });
}

/** The inbox row (list item or table row) that mentions `text`. */
export function inboxRow(page: Page, text: string): Locator {
  return page
    .getByRole("main")
    .locator("li, tr")
    .filter({ hasText: text })
    .filter({ has: page.getByRole("button", { name: /^Approve(?! selected)/ }) });
}

/** Sets a marker in the page's JS world: it survives client-side navigation, not a reload. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (globalThis as Record<string, unknown>).__sigilumNoReload = true;
  });
}

export async function expectNotReloaded(page: Page): Promise<void> {
  expect(await page.evaluate(() => (globalThis as Record<string, unknown>).__sigilumNoReload)).toBe(
    true,
  );
}
