// Browser tests drive Debian's chromium through playwright-core (dashboard.md §5): never a
// downloaded browser, a fresh profile per launch, passkeys through Chromium's virtual
// authenticator, axe-core on every page, screenshots in both themes under .tmp/screenshots.
import { describe, setDefaultTimeout } from "bun:test";
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { ApiClient, type TestServer } from "./server.ts";

export const CHROMIUM_PATH = process.env.SIGILUM_CHROMIUM || "/usr/bin/chromium";
const REQUIRED = process.env.SIGILUM_REQUIRE_BROWSER === "1";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const ACTION_TIMEOUT_MS = 10_000;

export const SCREENSHOT_DIR = resolve(import.meta.dir, "../../.tmp/screenshots");

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const chromiumFound = isExecutable(CHROMIUM_PATH);
const missingMessage = `chromium not found at ${CHROMIUM_PATH}; install with \`sudo apt-get install chromium\` or set SIGILUM_CHROMIUM`;

let warned = false;
function warnSkipped(): void {
  if (warned) return;
  warned = true;
  const bar = "!".repeat(78);
  console.error(
    `\n${bar}\n!! browser tests SKIPPED: ${missingMessage}\n!! (SIGILUM_REQUIRE_BROWSER=1 turns this skip into a failure)\n${bar}\n`,
  );
}

/**
 * `describe` for browser tests. Without chromium the block is skipped with a loud message, unless
 * SIGILUM_REQUIRE_BROWSER=1 (CI), where it runs and every test fails on the launch error.
 */
export function describeBrowser(name: string, body: () => void): void {
  // Bun 1.4.4 applies test/setup.ts's setDefaultTimeout to the first test file of a run only;
  // each browser test file (this runs once per file) sets it again.
  setDefaultTimeout(30_000);
  if (!chromiumFound && !REQUIRED) {
    warnSkipped();
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

export interface BrowserSession {
  /** The first browser context: a fresh persistent profile in a temp dir. */
  context: BrowserContext;
  /** Another cookie jar in the same browser (a second session of the same owner, say). */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Launches chromium headless on a fresh profile; throws a clear error when it is missing. */
export async function launchBrowser(): Promise<BrowserSession> {
  if (!chromiumFound) throw new Error(`browser tests required but ${missingMessage}`);
  // Playwright refuses --user-data-dir in args: a persistent context on a fresh dir is the way.
  const profile = mkdtempSync(join(tmpdir(), "sigilum-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
  });
  // A step that cannot happen fails with Playwright's own message well inside the test timeout.
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  const extra: BrowserContext[] = [];
  return {
    context,
    async newContext() {
      const browser = context.browser();
      if (!browser) throw new Error("no browser behind the persistent context");
      const other = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      other.setDefaultTimeout(ACTION_TIMEOUT_MS);
      extra.push(other);
      return other;
    },
    async close() {
      for (const other of extra) await other.close().catch(() => {});
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      if (screenshotsTaken > 0)
        console.log(`browser screenshots (${screenshotsTaken} so far): ${SCREENSHOT_DIR}`);
    },
  };
}

/** The dashboard's base URL: `localhost`, because an IP address is not a valid WebAuthn RP id. */
export function dashboardUrl(t: TestServer): string {
  const url = new URL(t.url);
  url.hostname = "localhost";
  return url.origin;
}

/** An API client holding the browser context's session cookie (acts as the signed-in owner). */
export async function apiAsBrowser(t: TestServer, context: BrowserContext): Promise<ApiClient> {
  const cookies = await context.cookies(dashboardUrl(t));
  const session = cookies.find((c) => c.name === "sigilum_session");
  if (!session) throw new Error("the browser holds no sigilum_session cookie");
  const client = new ApiClient(t.url, t.origin);
  client.cookie = session.value;
  return client;
}

export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  rpId?: string;
  userHandle?: string;
  signCount: number;
}

export interface VirtualAuthenticator {
  id: string;
  credentials(): Promise<VirtualCredential[]>;
  /**
   * Whether it answers requests on its own (as a person touching it would). Off, a request waits:
   * the page's passkey autofill (a conditional request) then stays pending until a click.
   */
  answerAutomatically(enabled: boolean): Promise<void>;
  /** Takes it away with its credentials (Chromium allows one internal authenticator at a time). */
  remove(): Promise<void>;
}

/** A platform authenticator with user verification, as dashboard.md §5 prescribes. */
export async function addVirtualAuthenticator(
  context: BrowserContext,
  page: Page,
): Promise<VirtualAuthenticator> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return {
    id: authenticatorId,
    async credentials() {
      const res = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
      return res.credentials as VirtualCredential[];
    },
    async answerAutomatically(enabled: boolean) {
      await cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled });
    },
    async remove() {
      await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
    },
  };
}

let axeSource: string | undefined;
function axeScript(): string {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  return axeSource;
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: string[];
}

/**
 * Runs axe-core in the page (injected through the DevTools protocol, so the page's CSP stays
 * as it is) and throws with a readable list when there is any serious or critical violation.
 */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  const loaded = await page.evaluate(() => "axe" in globalThis);
  if (!loaded) await page.evaluate(axeScript());
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(...a: unknown[]): Promise<unknown> } }).axe;
    const result = (await axe.run(document, { resultTypes: ["violations"] })) as {
      violations: {
        id: string;
        impact: string | null;
        help: string;
        helpUrl: string;
        nodes: { target: unknown[]; failureSummary?: string }[];
      }[];
    };
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map(
        (n) =>
          `${n.target.join(" ")}${n.failureSummary ? ` — ${n.failureSummary.replace(/\s+/g, " ")}` : ""}`,
      ),
    }));
  });
  const serious = (violations as AxeViolation[]).filter(
    (v) => v.impact === "serious" || v.impact === "critical",
  );
  if (serious.length === 0) return;
  const list = serious
    .map(
      (v) =>
        `- [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${v.nodes
          .slice(0, 5)
          .map((n) => `    ${n}`)
          .join("\n")}`,
    )
    .join("\n");
  throw new Error(`axe: ${serious.length} serious/critical violation(s) on ${label}:\n${list}`);
}

// Bun's test runner fires no process exit events, so each browser file names the folder as it
// closes its browser: the last line of the run says where every screenshot is.
let screenshotsTaken = 0;

async function screenshot(page: Page, file: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, file), fullPage: true });
  screenshotsTaken += 1;
}

/**
 * The page's width, and the outermost elements that push it past the viewport (runs in the page);
 * what sticks out inside a scrolling or clipping box counts only when nothing else does.
 */
function sidewaysOverflow(): { width: number; culprits: string[] } {
  const limit = window.innerWidth + 1;
  const clipped = (el: Element) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement)
      if (getComputedStyle(up).overflowX !== "visible") return true;
    return false;
  };
  const past = (el: Element) => el.getBoundingClientRect().right > limit;
  const unclipped = [...document.body.querySelectorAll("*")].some((el) => past(el) && !clipped(el));
  const sticksOut = (el: Element) => past(el) && (!unclipped || !clipped(el));
  const describe = (el: Element) =>
    `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${[...el.classList].map((c) => `.${c}`).join("")} (${Math.round(el.getBoundingClientRect().right)} px)`;
  const culprits = [...document.body.querySelectorAll("*")]
    .filter(sticksOut)
    .filter((el) => !el.parentElement || !sticksOut(el.parentElement))
    .slice(0, 5)
    .map(describe);
  return { width: document.documentElement.scrollWidth, culprits };
}

export interface CheckPageOptions {
  /** Also take a 375 px wide screenshot and check nothing overflows sideways. */
  mobile?: boolean;
}

/**
 * What every visited page gets: axe in the light and the dark theme, a full-page screenshot of
 * each (`.tmp/screenshots/<name>-light.png`, `-dark.png`), and optionally the 375 px one.
 */
export async function checkPage(
  page: Page,
  name: string,
  options: CheckPageOptions = {},
): Promise<void> {
  const failures: string[] = [];
  for (const colorScheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme });
    await screenshot(page, `${name}-${colorScheme}.png`);
    await expectAccessible(page, `${name} (${colorScheme})`).catch((err: Error) =>
      failures.push(err.message),
    );
  }
  await page.emulateMedia({ colorScheme: "light" });
  if (options.mobile) {
    const viewport = page.viewportSize();
    await page.setViewportSize({ width: 375, height: 812 });
    await screenshot(page, `${name}-375px.png`);
    const overflow = await page.evaluate(sidewaysOverflow);
    if (viewport) await page.setViewportSize(viewport);
    if (overflow.width > 375)
      failures.push(
        `${name}: at 375 px wide the page is ${overflow.width} px wide (scrolls sideways); widest: ${overflow.culprits.join(", ")}`,
      );
  }
  if (failures.length > 0) throw new Error(failures.join("\n"));
}
