// The dashboard's budgets (dashboard.md §1): the initial JavaScript ≤ 150 KB gzipped, and a page
// interactive within 500 ms on loopback. Measured in Debian's chromium (test/helpers/browser.ts)
// against the real server in its own process, from navigation start to: the "Sign in with a
// passkey" button enabled (signed out), the Inbox rendered (signed in); cold (a fresh browser
// context: empty cache, new renderer) and warm (repeat visits in one page). Baseline in the same
// run and the same two ways: navigation start → DOMContentLoaded of /healthz, a tiny response
// of the same server (what any page load costs in this browser on this machine).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "bun";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../test/helpers/browser.ts";
import { median, table } from "./lib.ts";
import { ownerWithKey, startSigilum } from "./sigilum.ts";

const RUNS = 15;
const JS_BUDGET_BYTES = 150_000;
const INTERACTIVE_BUDGET_MS = 500;

interface Load {
  ms: number;
  /** gzipped bytes of every script the page loaded */
  jsGzip: number;
  /** ms from navigation start until the last script had arrived (where the time went) */
  scriptsMs: number;
}

/** The gzipped size of every JavaScript response the page receives until `done` resolves. */
function collectScripts(page: Page): () => Promise<number> {
  const bodies: Promise<number>[] = [];
  page.on("response", (res) => {
    if (res.request().resourceType() !== "script") return;
    bodies.push(res.body().then((body) => gzipSync(new Uint8Array(body), { level: 9 }).length));
  });
  return async () => (await Promise.all(bodies)).reduce((a, b) => a + b, 0);
}

/** ms from navigation start until `readyAt` (run in the page) returns a time. */
async function timeTo(page: Page, url: string, readyAt: () => number): Promise<number> {
  await page.goto(url, { waitUntil: "commit" });
  const handle = await page.waitForFunction(readyAt, undefined, { polling: 5, timeout: 10_000 });
  return (await handle.jsonValue()) as number;
}

type Cookie = { name: string; value: string; url: string };

/**
 * `RUNS` loads of `url` after one warm-up, until `readyAt` holds: "cold" in a fresh browser
 * context each (empty cache, a new renderer process), "warm" as repeated visits in one page
 * (hashed assets from the cache, the shell revalidated). Median ms; the JS size of a cold load.
 */
async function measure(
  browser: Browser,
  url: string,
  readyAt: () => number,
  cookie?: Cookie,
): Promise<{ cold: Load; warm: Load }> {
  const coldOnce = async (): Promise<Load> => {
    const context = await browser.newContext();
    try {
      if (cookie) await context.addCookies([cookie]);
      const page = await context.newPage();
      const scripts = collectScripts(page);
      const ms = await timeTo(page, url, readyAt);
      const scriptsMs = await page.evaluate(() =>
        Math.max(
          0,
          ...performance
            .getEntriesByType("resource")
            .filter((e) => (e as PerformanceResourceTiming).initiatorType === "script")
            .map((e) => (e as PerformanceResourceTiming).responseEnd),
        ),
      );
      return { ms, jsGzip: await scripts(), scriptsMs };
    } finally {
      await context.close();
    }
  };
  await coldOnce();
  const cold: Load[] = [];
  for (let i = 0; i < RUNS; i++) cold.push(await coldOnce());

  const context = await browser.newContext();
  try {
    if (cookie) await context.addCookies([cookie]);
    const page = await context.newPage();
    await timeTo(page, url, readyAt);
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) warm.push(await timeTo(page, url, readyAt));
    const jsGzip = Math.max(...cold.map((l) => l.jsGzip));
    const scriptsMs = median(cold.map((l) => l.scriptsMs));
    return {
      cold: { ms: median(cold.map((l) => l.ms)), jsGzip, scriptsMs },
      warm: { ms: median(warm), jsGzip, scriptsMs: Number.NaN },
    };
  } finally {
    await context.close();
  }
}

/** navigation start → DOMContentLoaded of /healthz (a tiny response of the same server). */
async function baseline(browser: Browser, url: string): Promise<{ cold: number; warm: number }> {
  const dcl = (page: Page) =>
    page.evaluate(() => {
      const [nav] = performance.getEntriesByType("navigation") as PerformanceNavigationTiming[];
      return nav?.domContentLoadedEventEnd ?? Number.NaN;
    });
  const coldOnce = async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url, { waitUntil: "domcontentloaded" });
      return await dcl(page);
    } finally {
      await context.close();
    }
  };
  await coldOnce();
  const cold: number[] = [];
  for (let i = 0; i < RUNS; i++) cold.push(await coldOnce());
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: "domcontentloaded" });
    const warm: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await page.goto(url, { waitUntil: "domcontentloaded" });
      warm.push(await dcl(page));
    }
    return { cold: median(cold), warm: median(warm) };
  } finally {
    await context.close();
  }
}

// Run in the page (Playwright sends their source, so they close over nothing): the time since
// navigation start once the passkey button is enabled / the Inbox rendered its content, else 0.
function signInReadyAt(): number {
  const ready = [...document.querySelectorAll("button")].some(
    (b) => b.textContent?.trim() === "Sign in with a passkey" && !b.disabled,
  );
  return ready ? performance.now() : 0;
}
function inboxReadyAt(): number {
  const h1 = document.querySelector("main h1");
  const ready =
    h1?.textContent?.trim() === "Inbox" &&
    !!document.body.textContent?.includes("No pending requests");
  return ready ? performance.now() : 0;
}

export async function dashboardBench(): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), "sigilum-bench-dashboard-"));
  const server = await startSigilum(join(work, "data"), join(work, "server.log"));
  const session = await launchBrowser();
  try {
    const browser = session.context.browser();
    if (!browser) throw new Error("no browser");
    // localhost, as people open it (an IP address is not a valid WebAuthn RP id)
    const base = server.url.replace("127.0.0.1", "localhost");
    const owner = await ownerWithKey(server.url, "bench-dashboard", "bench-dashboard-svc");
    const cookie = { name: "sigilum_session", value: owner.cookie, url: base };

    const base0 = await baseline(browser, `${base}/healthz`);
    const signIn = await measure(browser, `${base}/signin`, signInReadyAt);
    const inbox = await measure(browser, `${base}/`, inboxReadyAt, cookie);

    const row = (name: string, load: Load, baselineMs: number) => [
      name,
      load.ms.toFixed(1),
      Number.isNaN(load.scriptsMs) ? "(cached)" : load.scriptsMs.toFixed(1),
      baselineMs.toFixed(1),
      (load.ms / baselineMs).toFixed(2),
      `≤ ${INTERACTIVE_BUDGET_MS} ms`,
      load.ms <= INTERACTIVE_BUDGET_MS ? "yes" : "NO",
      (load.jsGzip / 1000).toFixed(1),
      `≤ ${JS_BUDGET_BYTES / 1000} KB`,
      load.jsGzip <= JS_BUDGET_BYTES ? "yes" : "NO",
    ];
    return table([
      [
        `benchmark (chromium, median of ${RUNS}; cold = fresh context)`,
        "ms to interactive",
        "scripts arrived by ms",
        "baseline (/healthz DOMContentLoaded) ms",
        "ratio",
        "budget",
        "met",
        "initial JS KB gzipped",
        "budget",
        "met",
      ],
      row("/signin → passkey button enabled, cold", signIn.cold, base0.cold),
      row("/signin → passkey button enabled, warm", signIn.warm, base0.warm),
      row("/ signed in → Inbox rendered, cold", inbox.cold, base0.cold),
      row("/ signed in → Inbox rendered, warm", inbox.warm, base0.warm),
    ]);
  } finally {
    await session.close();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
