// The browser harness itself: the checks every dashboard page goes through can fail.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import {
  addVirtualAuthenticator,
  type BrowserSession,
  describeBrowser,
  expectAccessible,
  launchBrowser,
} from "../helpers/browser.ts";

describeBrowser("browser harness", () => {
  let browser: BrowserSession;
  let page: Page;
  beforeAll(async () => {
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  afterAll(() => browser?.close());

  test("axe reports serious violations by rule and element", async () => {
    await page.setContent(
      `<html lang="en"><title>t</title><main><h1>x</h1><button id="nameless"></button></main></html>`,
    );
    const error = await expectAccessible(page, "a bad page").catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("button-name");
    expect((error as Error).message).toContain("#nameless");
    await page.setContent(
      `<html lang="en"><title>t</title><main><h1>x</h1><button>Go</button></main></html>`,
    );
    await expectAccessible(page, "a good page");
  });

  test("the virtual authenticator is a platform authenticator with no credentials yet", async () => {
    const authenticator = await addVirtualAuthenticator(browser.context, page);
    expect(authenticator.id).toBeTruthy();
    expect(await authenticator.credentials()).toEqual([]);
  });
});
