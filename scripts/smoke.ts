/**
 * CI smoke test of the compiled binary (operations.md §2):
 *   bun scripts/smoke.ts [path/to/dist/sigilum]
 * Runs a copy of the binary from an empty temp dir with no node_modules on PATH: signs up,
 * creates a service, a key and a webhook, backs it up while serving, stops it with SIGTERM,
 * restarts it on the same data dir and finds everything again; then restores the backup without
 * its master key (refused) and with it (works). The dashboard is loaded in Debian's chromium
 * (test/helpers/browser.ts): security headers, sign-in page, sign-up through the page, the Inbox;
 * skipped with a loud line when chromium is missing, unless SIGILUM_REQUIRE_BROWSER=1.
 * Prints "ok - …" / "not ok - …" lines.
 */
import { randomBytes } from "node:crypto";
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { CHROMIUM_PATH, chromiumFound, launchBrowser } from "../test/helpers/browser.ts";

const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;
const COMMAND_TIMEOUT_MS = 10_000;
const HTTP_TIMEOUT_MS = 5_000;
const PASSWORD = "correct horse battery staple";
const OUTPUT_TAIL_LINES = 200;
const UI_TIMEOUT_MS = 10_000;
const DASHBOARD_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

type ServerProcess = Subprocess<"ignore", "pipe", "pipe">;

interface OutputLog {
  stdout: string[];
  stderr: string[];
  drained: Promise<void>;
}

interface RunningServer {
  proc: ServerProcess;
  origin: string;
  output: OutputLog;
  /** ms from exec to the first 200 from /readyz */
  readyAfterMs: number;
}

interface SmokeRun {
  sourceBinary: string;
  workDir: string;
  binary: string;
  dataDir: string;
  server?: RunningServer;
  passed: number;
}

interface Account {
  namespace: string;
  email: string;
  password: string;
}

interface HttpResult {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

class StepFailed extends Error {}

// ---------- steps ----------

async function step<T>(run: SmokeRun, name: string, action: () => Promise<T>): Promise<T> {
  try {
    const value = await action();
    run.passed += 1;
    console.log(`ok - ${name}`);
    return value;
  } catch (error) {
    console.log(`not ok - ${name}: ${(error as Error).message}`);
    throw new StepFailed(name);
  }
}

function installBinary(run: SmokeRun): Promise<void> {
  accessSync(run.sourceBinary, constants.X_OK);
  copyFileSync(run.sourceBinary, run.binary);
  chmodSync(run.binary, 0o755);
  return Promise.resolve();
}

async function checkVersion(run: SmokeRun): Promise<void> {
  const { code, stdout } = await runCommand(run, ["version"]);
  if (code !== 0) throw new Error(`exit code ${code}`);
  if (!/\d+\.\d+\.\d+/.test(stdout)) throw new Error(`no version in output: ${excerpt(stdout)}`);
}

async function checkHelp(run: SmokeRun): Promise<void> {
  const { code, stdout } = await runCommand(run, ["--help"]);
  if (code !== 0) throw new Error(`exit code ${code}`);
  if (!stdout.includes("serve"))
    throw new Error(`usage does not mention serve: ${excerpt(stdout)}`);
}

async function signUp(server: RunningServer, account: Account): Promise<string> {
  const res = await request(server, "POST", "/v1/auth/signup", { body: account });
  expectStatus(res, 201);
  return sessionCookie(res);
}

async function logIn(server: RunningServer, account: Account): Promise<string> {
  const body = { login: account.namespace, password: account.password };
  const res = await request(server, "POST", "/v1/auth/login", { body });
  expectStatus(res, 200);
  return sessionCookie(res);
}

/** The WebAuthn library loads lazily, at the first ceremony: it must load inside the binary. */
async function startPasskeySignIn(server: RunningServer): Promise<void> {
  const res = await request(server, "POST", "/v1/auth/login/options");
  expectStatus(res, 200);
  stringField(res.body, "challenge");
}

async function createService(server: RunningServer, cookie: string, slug: string) {
  const body = { slug, name: "API Gateway", description: "Main API gateway service" };
  const res = await request(server, "POST", "/v1/services", { body, cookie });
  expectStatus(res, 201);
  return { id: stringField(res.body, "id"), slug };
}

async function createKey(server: RunningServer, cookie: string, serviceId: string) {
  const res = await request(server, "POST", `/v1/services/${serviceId}/keys`, { cookie });
  expectStatus(res, 201);
  stringField(res.body, "key", "sgl_sk_prod_");
  return { id: stringField(res.body, "id", "key_"), prefix: stringField(res.body, "prefix") };
}

async function createWebhook(server: RunningServer, cookie: string, serviceId: string) {
  const body = {
    url: "http://127.0.0.1:9/webhooks/sigilum",
    events: ["request.approved", "request.revoked"],
  };
  const res = await request(server, "POST", `/v1/services/${serviceId}/webhooks`, {
    body,
    cookie,
  });
  expectStatus(res, 201);
  stringField(res.body, "secret", "whsec_");
  return { id: stringField(res.body, "id", "wh_") };
}

async function expectServiceListed(server: RunningServer, cookie: string, serviceId: string) {
  const res = await request(server, "GET", "/v1/services", { cookie });
  expectStatus(res, 200);
  const services = arrayField(res.body, "services");
  if (!services.some((service) => field(service, "id") === serviceId)) {
    throw new Error(`service ${serviceId} not in ${excerpt(res.text)}`);
  }
}

async function expectKeyListed(
  server: RunningServer,
  cookie: string,
  serviceId: string,
  key: { id: string; prefix: string },
) {
  const res = await request(server, "GET", `/v1/services/${serviceId}/keys`, { cookie });
  expectStatus(res, 200);
  const keys = arrayField(res.body, "keys");
  if (keys.length !== 1) throw new Error(`expected 1 key, got ${keys.length}`);
  const [listed] = keys;
  if (field(listed, "id") !== key.id) throw new Error(`key id differs: ${excerpt(res.text)}`);
  if (field(listed, "prefix") !== key.prefix)
    throw new Error(`prefix differs: ${excerpt(res.text)}`);
  if (hasField(listed, "key")) throw new Error("the list exposes the key secret");
}

async function expectWebhookListed(
  server: RunningServer,
  cookie: string,
  serviceId: string,
  webhookId: string,
) {
  const res = await request(server, "GET", `/v1/services/${serviceId}/webhooks`, { cookie });
  expectStatus(res, 200);
  const listed = arrayField(res.body, "webhooks").find((hook) => field(hook, "id") === webhookId);
  if (listed === undefined) throw new Error(`webhook ${webhookId} not in ${excerpt(res.text)}`);
  if (hasField(listed, "secret")) throw new Error("the list exposes the webhook secret");
}

/** Response headers every dashboard page must carry (dashboard.md §1). */
function expectDashboardHeaders(headers: Record<string, string>): void {
  const expected: Record<string, string> = {
    "content-security-policy": DASHBOARD_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
  };
  for (const [name, value] of Object.entries(expected)) {
    if (headers[name] !== value) throw new Error(`${name}: ${headers[name] ?? "(missing)"}`);
  }
}

/**
 * The embedded dashboard in a real browser: `/` sends a signed-out visitor to the sign-in page
 * with the security headers; sign-up with a password through the page lands on the Inbox.
 */
async function useDashboard(server: RunningServer, account: Account): Promise<void> {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    // localhost, not 127.0.0.1: the dashboard's passkeys need a host name (WebAuthn RP id)
    const base = server.origin.replace("127.0.0.1", "localhost");
    const res = await page.goto(`${base}/`);
    if (res?.status() !== 200) throw new Error(`GET / answered ${res?.status()}`);
    expectDashboardHeaders(res.headers());
    await page.waitForURL(`${base}/signin`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await page.getByRole("button", { name: "Sign in with a passkey" }).waitFor();
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByRole("heading", { level: 1, name: "Create an account" }).waitFor();
    await page.getByLabel("Namespace", { exact: true }).fill(account.namespace);
    await page.getByLabel("Email", { exact: true }).fill(account.email);
    await page.getByText("Use a password instead").click();
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign up with password" }).click();
    await page.waitForURL(`${base}/`);
    await page.getByRole("heading", { level: 1, name: "Inbox" }).waitFor();
    await page.getByText("No pending requests").waitFor();
  } finally {
    await browser.close();
  }
}

/** `sigilum backup` while serving: the copy, and the master key beside it (0600). */
async function backUp(run: SmokeRun, target: string): Promise<void> {
  const { code, stdout, stderr } = await runCommand(run, ["backup", target]);
  if (code !== 0) throw new Error(`exit code ${code}: ${excerpt(stderr)}`);
  if (!stdout.includes(`${target}.key`)) throw new Error(`no key file named: ${excerpt(stdout)}`);
  const mode = (statSync(`${target}.key`).mode & 0o777).toString(8);
  if (mode !== "600") throw new Error(`${target}.key has mode ${mode}, not 600`);
}

/** A data dir holding only the backup's database (and, when given, its key as secret.key). */
function restore(backup: string, dataDir: string, withKey: boolean): void {
  mkdirSync(dataDir);
  copyFileSync(backup, join(dataDir, "sigilum.db"));
  if (withKey) copyFileSync(`${backup}.key`, join(dataDir, "secret.key"));
}

/** Without the key that sealed the webhook secrets the server must refuse to start. */
async function expectRefusalWithoutKey(run: SmokeRun, dataDir: string): Promise<void> {
  const proc = Bun.spawn([run.binary, "serve"], {
    cwd: run.workDir,
    env: isolatedEnv(run, {
      SIGILUM_PORT: "0",
      SIGILUM_HOST: "127.0.0.1",
      SIGILUM_DATA_DIR: dataDir,
      SIGILUM_LOG_FORMAT: "json",
    }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: COMMAND_TIMEOUT_MS,
  });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 2)
    throw new Error(`exit code ${code} (${exitDescription(proc)}): ${excerpt(stderr)}`);
  if (!stderr.includes("SIGILUM_SECRET_KEY"))
    throw new Error(`unclear refusal: ${excerpt(stderr)}`);
  if (existsSync(join(dataDir, "secret.key"))) throw new Error("a new secret.key was generated");
}

/** Run from a directory with no database, `backup` must refuse instead of copying an empty one. */
async function expectBackupRefusedWithoutDatabase(run: SmokeRun): Promise<void> {
  const elsewhere = join(run.workDir, "elsewhere");
  mkdirSync(elsewhere);
  const { code, stderr } = await runCommand(run, ["backup", "b.db"], { cwd: elsewhere, env: {} });
  if (code !== 2) throw new Error(`exit code ${code}: ${excerpt(stderr)}`);
  if (!stderr.includes(join(elsewhere, "data", "sigilum.db")))
    throw new Error(`the path looked at is not named: ${excerpt(stderr)}`);
  if (existsSync(join(elsewhere, "data"))) throw new Error("an empty data dir was created");
}

// ---------- the server process ----------

async function startServer(run: SmokeRun, dataDir = run.dataDir): Promise<RunningServer> {
  const port = await freePort();
  const startedAt = performance.now();
  const proc = Bun.spawn([run.binary, "serve"], {
    cwd: run.workDir,
    env: isolatedEnv(run, {
      SIGILUM_PORT: String(port),
      SIGILUM_HOST: "127.0.0.1",
      SIGILUM_DATA_DIR: dataDir,
      SIGILUM_WEBHOOK_ALLOW_HTTP: "true",
      SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true",
      SIGILUM_LOG_FORMAT: "json",
    }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const server: RunningServer = {
    proc,
    origin: `http://127.0.0.1:${port}`,
    output: captureOutput(proc),
    readyAfterMs: Number.NaN,
  };
  run.server = server;
  server.readyAfterMs = (await waitUntilReady(server)) - startedAt;
  return server;
}

async function waitUntilReady(server: RunningServer): Promise<number> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  while (performance.now() < deadline) {
    if (server.proc.exitCode !== null || server.proc.signalCode !== null) {
      throw new Error(`exited (${exitDescription(server.proc)}) before /readyz answered 200`);
    }
    const status = await readyzStatus(server);
    if (status === 200) return performance.now();
    await Bun.sleep(10);
  }
  throw new Error(`/readyz did not answer 200 within ${READY_TIMEOUT_MS / 1000} s`);
}

async function readyzStatus(server: RunningServer): Promise<number | undefined> {
  try {
    const res = await fetch(`${server.origin}/readyz`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined; // not listening yet
  }
}

async function stopServer(server: RunningServer): Promise<void> {
  server.proc.kill("SIGTERM");
  const exited = await Promise.race([
    server.proc.exited.then(() => true),
    Bun.sleep(STOP_TIMEOUT_MS).then(() => false),
  ]);
  if (!exited) throw new Error(`still running ${STOP_TIMEOUT_MS / 1000} s after SIGTERM`);
  await server.output.drained;
  if (server.proc.exitCode !== 0) throw new Error(`exited with ${exitDescription(server.proc)}`);
}

async function killServer(server: RunningServer | undefined): Promise<void> {
  if (!server || server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  server.proc.kill("SIGKILL");
  await server.proc.exited;
}

function captureOutput(proc: ServerProcess): OutputLog {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const drained = Promise.all([collect(proc.stdout, stdout), collect(proc.stderr, stderr)]).then(
    () => undefined,
  );
  return { stdout, stderr, drained };
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    into.push(decoder.decode(chunk.value, { stream: true }));
  }
}

function printServerOutput(server: RunningServer | undefined): void {
  if (!server) return;
  printTail("stdout", server.output.stdout.join(""));
  printTail("stderr", server.output.stderr.join(""));
}

function printTail(name: string, text: string): void {
  const lines = text.trimEnd() === "" ? ["(empty)"] : text.trimEnd().split("\n");
  console.log(`# --- server ${name} (last ${OUTPUT_TAIL_LINES} lines) ---`);
  for (const line of lines.slice(-OUTPUT_TAIL_LINES)) console.log(`#   ${line}`);
}

function exitDescription(proc: Subprocess): string {
  return proc.signalCode ? `signal ${proc.signalCode}` : `exit code ${proc.exitCode}`;
}

// ---------- one-shot commands, ports, environment ----------

async function runCommand(
  run: SmokeRun,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
) {
  const proc = Bun.spawn([run.binary, ...args], {
    cwd: opts.cwd ?? run.workDir,
    env: isolatedEnv(run, opts.env ?? { SIGILUM_DATA_DIR: run.dataDir }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: COMMAND_TIMEOUT_MS,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (proc.signalCode) throw new Error(`killed by ${proc.signalCode}: ${excerpt(stderr)}`);
  return { code, stdout, stderr };
}

/** A port nobody listens on right now: bind port 0, read what the kernel chose, release it. */
async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** Like a production host: no node_modules/.bin on PATH, nothing inherited but PATH and TMPDIR. */
function isolatedEnv(run: SmokeRun, extra: Record<string, string>): Record<string, string> {
  const path = (process.env.PATH ?? "")
    .split(":")
    .filter((dir) => dir !== "" && !dir.includes("node_modules"))
    .join(":");
  const env: Record<string, string> = { PATH: path, HOME: run.workDir, ...extra };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  return env;
}

// ---------- HTTP helpers ----------

async function request(
  server: RunningServer,
  method: "GET" | "POST",
  path: string,
  opts: { body?: unknown; cookie?: string } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  if (opts.cookie) headers.Cookie = `sigilum_session=${opts.cookie}`;
  if (method !== "GET") headers.Origin = server.origin; // CSRF rule for cookie-authenticated writes
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${server.origin}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: parseJson(text), text };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function expectStatus(res: HttpResult, expected: number): void {
  if (res.status !== expected) {
    throw new Error(`expected ${expected}, got ${res.status}: ${excerpt(res.text)}`);
  }
}

function sessionCookie(res: HttpResult): string {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("sigilum_session="));
  const value = cookie?.slice("sigilum_session=".length).split(";")[0];
  if (!value) throw new Error(`no sigilum_session in set-cookie: ${res.headers.getSetCookie()}`);
  return value;
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

function hasField(value: unknown, name: string): boolean {
  return typeof value === "object" && value !== null && name in value;
}

function stringField(value: unknown, name: string, prefix = ""): string {
  const found = field(value, name);
  if (typeof found !== "string" || !found.startsWith(prefix) || found === "") {
    throw new Error(
      `expected "${name}" to be a string starting with "${prefix}": ${excerpt(JSON.stringify(value))}`,
    );
  }
  return found;
}

function arrayField(value: unknown, name: string): unknown[] {
  const found = field(value, name);
  if (!Array.isArray(found))
    throw new Error(`expected "${name}" to be an array: ${excerpt(JSON.stringify(value))}`);
  return found;
}

function excerpt(text: string | undefined): string {
  const flat = (text ?? "").replace(/\s+/g, " ").trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

// ---------- the run ----------

function newAccount(suffix: string): Account {
  return {
    namespace: `smoke-${suffix}`,
    email: `smoke-${suffix}@example.com`,
    password: PASSWORD,
  };
}

async function smoke(run: SmokeRun): Promise<void> {
  const suffix = randomBytes(5).toString("hex");
  const account = newAccount(suffix);

  await step(run, "copy the binary into an empty temp dir", () => installBinary(run));
  await step(run, "`sigilum version` exits 0 and prints a version", () => checkVersion(run));
  await step(run, "`sigilum --help` exits 0 and prints usage", () => checkHelp(run));

  const first = await step(run, "start on a fresh data dir, /readyz 200", () => startServer(run));
  console.log(`# first start (fresh database): ${Math.round(first.readyAfterMs)} ms to ready`);
  const signupCookie = await step(run, "sign up", () => signUp(first, account));
  await step(run, "start a passkey sign-in (the WebAuthn library loads in the binary)", () =>
    startPasskeySignIn(first),
  );
  const service = await step(run, "create a service", () =>
    createService(first, signupCookie, `api-gateway-${suffix}`),
  );
  const key = await step(run, "create an API key", () =>
    createKey(first, signupCookie, service.id),
  );
  const webhook = await step(run, "create a webhook", () =>
    createWebhook(first, signupCookie, service.id),
  );
  if (chromiumFound || process.env.SIGILUM_REQUIRE_BROWSER === "1") {
    await step(run, "the dashboard: sign-in page with security headers, sign up in it, Inbox", () =>
      useDashboard(first, newAccount(`web-${suffix}`)),
    );
  } else {
    console.log(`ok - the dashboard in a browser # SKIP chromium not found at ${CHROMIUM_PATH}`);
    console.error(
      `!! smoke: dashboard step SKIPPED: chromium not found at ${CHROMIUM_PATH}; install with \`sudo apt-get install chromium\` or set SIGILUM_CHROMIUM`,
    );
  }
  const backup = join(run.workDir, "backup.db");
  await step(run, "`sigilum backup` while serving writes the copy and <file>.key (0600)", () =>
    backUp(run, backup),
  );
  await step(run, "SIGTERM: exit code 0 within 10 s", () => stopServer(first));

  const second = await step(run, "restart on the same data dir, /readyz 200", () =>
    startServer(run),
  );
  console.log(
    `# cold start (exec → first 200 from /readyz): ${Math.round(second.readyAfterMs)} ms`,
  );
  const cookie = await step(run, "log in", () => logIn(second, account));
  await step(run, "the service survived the restart", () =>
    expectServiceListed(second, cookie, service.id),
  );
  await step(run, "the key is listed by prefix, without its secret", () =>
    expectKeyListed(second, cookie, service.id, key),
  );
  await step(run, "the webhook is listed, without its secret", () =>
    expectWebhookListed(second, cookie, service.id, webhook.id),
  );
  await step(run, "SIGTERM after restart: exit code 0 within 10 s", () => stopServer(second));

  const keyless = join(run.workDir, "restored-without-key");
  await step(run, "a restore without the master key refuses to start (exit 2)", () => {
    restore(backup, keyless, false);
    return expectRefusalWithoutKey(run, keyless);
  });
  const restoredDir = join(run.workDir, "restored");
  const restored = await step(run, "a restore with <file>.key starts, /readyz 200", () => {
    restore(backup, restoredDir, true);
    return startServer(run, restoredDir);
  });
  const restoredCookie = await step(run, "log in to the restored copy", () =>
    logIn(restored, account),
  );
  await step(run, "the webhook survived the backup", () =>
    expectWebhookListed(restored, restoredCookie, service.id, webhook.id),
  );
  await step(run, "SIGTERM on the restored copy: exit code 0", () => stopServer(restored));
  await step(run, "`sigilum backup` with no database where it looks: exit 2, nothing created", () =>
    expectBackupRefusedWithoutDatabase(run),
  );
}

async function cleanUp(run: SmokeRun): Promise<void> {
  await killServer(run.server);
  rmSync(run.workDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), "sigilum-smoke-"));
  const run: SmokeRun = {
    sourceBinary: resolve(process.argv[2] ?? "dist/sigilum"),
    workDir,
    binary: join(workDir, "sigilum"),
    dataDir: join(workDir, "data"),
    passed: 0,
  };
  const interrupted = async () => {
    console.log("not ok - interrupted");
    await cleanUp(run);
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);

  let failed = 0;
  try {
    await smoke(run);
  } catch (error) {
    failed = 1;
    if (!(error instanceof StepFailed))
      console.log(`not ok - smoke harness: ${(error as Error).message}`);
    await killServer(run.server);
    await run.server?.output.drained;
    printServerOutput(run.server);
  } finally {
    await cleanUp(run);
  }
  console.log(`smoke: ${run.passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

await main();
