// The owner's path through the dashboard (dashboard.md §2 and §5) against a real server, a real
// database and a real webhook receiver: services, API keys, webhooks, the live inbox, decisions,
// revocation, deliveries and redelivery, policy, usage, overview. Tests run in order and share
// one signed-in page, like one person's session. Passkeys and the account page: passkeys.test.ts
// and account.test.ts.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import type { Page } from "playwright-core";
import { type Agent, newAgent, submitClaim } from "../helpers/agent.ts";
import {
  apiAsBrowser,
  type BrowserSession,
  checkPage,
  dashboardUrl,
  describeBrowser,
  launchBrowser,
} from "../helpers/browser.ts";
import { startReceiver } from "../helpers/receiver.ts";
import { type ApiClient, startTestServer, type TestServer, uniqueName } from "../helpers/server.ts";
import type { ClaimSubmitted } from "../helpers/types.ts";
import {
  confirmDialog,
  dialog,
  eventually,
  expectCount,
  expectHeading,
  expectNotReloaded,
  expectPath,
  expectTitle,
  formWith,
  goTo,
  inboxRow,
  markDocument,
  rowButtons,
  signUpWithPassword,
  UI_TIMEOUT,
} from "./flows.ts";

const LIVE_MS = 2_000; // dashboard.md §2.2: a new request appears within 2 seconds

interface Verdict {
  authorized: boolean;
  status?: string;
}

describeBrowser("the owner's path through the dashboard", () => {
  let t: TestServer;
  let browser: BrowserSession;
  let page: Page;
  let base: string;
  let api: ApiClient; // the browser's own session, for checking what the page did
  const receiver = startReceiver();
  const namespace = uniqueName("owner");
  const slug = uniqueName("svc");
  const serviceName = "Payments gateway";
  let serviceId = "";
  let apiKey = "";
  let webhookId = "";
  const agents: Record<string, Agent> = {};
  const claims: Record<string, string> = {};

  /** What the page's last "Copy …" button put on the clipboard. */
  async function clipboard(): Promise<string> {
    return await eventually(
      () => page.evaluate(() => navigator.clipboard.readText()),
      (text) => text !== "",
    );
  }

  async function verify(agent: Agent): Promise<Verdict> {
    const q = new URLSearchParams({ namespace, public_key: agent.publicKey });
    const res = await fetch(`${t.url}/v1/verify?${q}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Verdict;
  }

  async function submit(name: string, subject: string): Promise<string> {
    agents[name] = await newAgent(namespace);
    const res = await submitClaim<ClaimSubmitted>(t, agents[name]!, apiKey, slug, {
      agent_name: name,
      subject,
    });
    expect(res.status).toBe(201);
    claims[name] = res.body.claim_id;
    return claims[name]!;
  }

  beforeAll(async () => {
    t = await startTestServer({
      env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" },
    });
    base = dashboardUrl(t);
    browser = await launchBrowser();
    await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], {
      origin: base,
    });
    page = await browser.context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    receiver.stop();
  });

  test("sign up with a password through the page → the empty Inbox", async () => {
    await signUpWithPassword(page, base, namespace);
    await page.getByText("No pending requests").waitFor({ timeout: UI_TIMEOUT });
    await expectTitle(page, "Inbox — Sigilum");
    api = await apiAsBrowser(t, browser.context);
    const me = await api.get<{ user: { namespace: string } }>("/v1/auth/me");
    expect(me.body.user.namespace).toBe(namespace);
    await checkPage(page, "inbox-empty", { mobile: true });
  });

  test("create a service: the API's validation message shows next to the field, then it is created", async () => {
    await goTo(page, "Services");
    await page.getByRole("button", { name: "Create service" }).first().click();
    const form = formWith(page, "Slug");
    await form.getByLabel("Slug", { exact: true }).fill("Not A Slug!");
    await form.getByLabel("Name", { exact: true }).fill(serviceName);
    await form.getByRole("button", { name: "Create service" }).click();
    const refused = await api.post<{ details?: { field: string; message: string }[] }>(
      "/v1/services",
      { slug: "Not A Slug!", name: serviceName },
    );
    expect(refused.status).toBe(400);
    const message = refused.body.details?.find((d) => d.field === "slug")?.message;
    expect(message).toBeTruthy();
    await page.getByText(message!).first().waitFor({ timeout: UI_TIMEOUT });
    await checkPage(page, "service-create-error");

    await form.getByLabel("Slug", { exact: true }).fill(slug);
    await form.getByLabel("Description", { exact: true }).fill("Takes card payments");
    await form.getByRole("button", { name: "Create service" }).click();
    // The page may open the new service or list it: either is fine.
    const onServicePage = () => /^\/services\/[^/]+$/.test(new URL(page.url()).pathname);
    const link = page.getByRole("main").getByRole("link", { name: serviceName }).first();
    await eventually(async () => onServicePage() || (await link.isVisible()), Boolean);
    if (!onServicePage()) await link.click();
    await expectPath(page, /^\/services\/[^/]+$/);
    await expectHeading(page, serviceName);
    serviceId = new URL(page.url()).pathname.split("/")[2]!;
    const listed = await api.get<{ services: { id: string; slug: string }[] }>("/v1/services");
    expect(listed.body.services.map((s) => [s.id, s.slug])).toEqual([[serviceId, slug]]);
    await checkPage(page, "service", { mobile: true });
    await goTo(page, "Services");
    await page.getByRole("link", { name: serviceName }).first().waitFor({ timeout: UI_TIMEOUT });
    await checkPage(page, "services", { mobile: true });
    await page.getByRole("link", { name: serviceName }).first().click();
    await expectHeading(page, serviceName);
  });

  test("an API key is shown once, with a copy button, and is gone after the dialog and a reload", async () => {
    await page.getByRole("heading", { name: "API keys" }).waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole("button", { name: "Create API key" }).first().click();
    const form = formWith(page, "Environment");
    await form.getByLabel("Name", { exact: true }).fill("checkout");
    await form.getByRole("button", { name: "Create API key" }).click();
    const shown = dialog(page).getByLabel("New API key", { exact: true });
    await shown.waitFor({ timeout: UI_TIMEOUT });
    apiKey = (await shown.textContent())?.trim() ?? "";
    expect(apiKey).toMatch(/^sgl_sk_prod_[0-9A-Za-z]{38}$/);
    await dialog(page).getByRole("button", { name: "Copy key" }).click();
    expect(await clipboard()).toBe(apiKey);
    await checkPage(page, "api-key-created");
    await confirmDialog(page, "Done");
    expect(await page.content()).not.toContain(apiKey);
    await page.reload();
    await expectHeading(page, serviceName);
    await page.getByText(apiKey.slice(0, 16)).first().waitFor({ timeout: UI_TIMEOUT });
    expect(await page.content()).not.toContain(apiKey);
    const keys = await api.get<{ keys: { prefix: string; name: string }[] }>(
      `/v1/services/${serviceId}/keys`,
    );
    expect(keys.body.keys.map((k) => [k.prefix, k.name])).toEqual([
      [apiKey.slice(0, 16), "checkout"],
    ]);
  });

  test("roll the key: the new one is shown once, the old one works through the grace until revoked", async () => {
    const oldKey = apiKey;
    const probe = (await newAgent(namespace)).publicKey;
    const status = async (key: string) => {
      const q = new URLSearchParams({ namespace, public_key: probe });
      const res = await fetch(`${t.url}/v1/verify?${q}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      await res.arrayBuffer();
      return res.status;
    };
    expect(await status(oldKey)).toBe(200);
    await page.getByRole("button", { name: `Roll ${oldKey.slice(0, 16)}` }).click();
    await dialog(page).getByLabel("Grace period (hours)").fill("1");
    await dialog(page).getByRole("button", { name: "Roll", exact: true }).click();
    const shown = dialog(page).getByLabel("New API key", { exact: true });
    await shown.waitFor({ timeout: UI_TIMEOUT });
    const newKey = (await shown.textContent())?.trim() ?? "";
    expect(newKey).toMatch(/^sgl_sk_prod_[0-9A-Za-z]{38}$/);
    expect(newKey).not.toBe(oldKey);
    await confirmDialog(page, "Done");
    expect(await status(newKey)).toBe(200);
    expect(await status(oldKey)).toBe(200); // the grace period

    await page.getByRole("button", { name: `Revoke ${oldKey.slice(0, 16)}` }).click();
    await checkPage(page, "api-key-revoke-dialog");
    await confirmDialog(page, "Revoke");
    expect(
      await eventually(
        () => status(oldKey),
        (s) => s === 401,
      ),
    ).toBe(401);
    expect(await status(newKey)).toBe(200);
    const keys = await api.get<{ keys: { prefix: string; status: string }[] }>(
      `/v1/services/${serviceId}/keys`,
    );
    expect(Object.fromEntries(keys.body.keys.map((k) => [k.prefix, k.status]))).toEqual({
      [oldKey.slice(0, 16)]: "revoked",
      [newKey.slice(0, 16)]: "active",
    });
    apiKey = newKey;
  });

  test("a webhook to the receiver: the four seed events preselected, the secret shown once", async () => {
    await page.getByRole("heading", { name: "Webhooks" }).waitFor({ timeout: UI_TIMEOUT });
    await page.getByRole("button", { name: "Add webhook" }).first().click();
    const form = formWith(page, "URL");
    const events = form.getByRole("group", { name: "Events" });
    for (const event of [
      "request.submitted",
      "request.approved",
      "request.rejected",
      "request.revoked",
    ])
      expect(await events.getByRole("checkbox", { name: event }).isChecked()).toBe(true);
    expect(await events.getByRole("checkbox", { name: "request.expired" }).isChecked()).toBe(false);
    const url = `${receiver.url}/hook`;
    await form.getByLabel("URL", { exact: true }).fill(url);
    await form.getByRole("button", { name: "Add webhook" }).click();
    const shown = dialog(page).getByLabel("Webhook secret", { exact: true });
    await shown.waitFor({ timeout: UI_TIMEOUT });
    const secret = (await shown.textContent())?.trim() ?? "";
    expect(secret).toMatch(/^whsec_/);
    await dialog(page)
      .getByRole("button", { name: "Copy secret" })
      .waitFor({ timeout: UI_TIMEOUT });
    await checkPage(page, "webhook-created");
    await confirmDialog(page, "Done");
    await page.reload();
    await page.getByRole("link", { name: url }).waitFor({ timeout: UI_TIMEOUT });
    expect(await page.content()).not.toContain(secret);
    const hooks = await api.get<{ webhooks: { id: string; url: string; events: string[] }[] }>(
      `/v1/services/${serviceId}/webhooks`,
    );
    expect(hooks.body.webhooks).toHaveLength(1);
    expect(hooks.body.webhooks[0]!.url).toBe(url);
    webhookId = hooks.body.webhooks[0]!.id;
    await checkPage(page, "service-with-key-and-webhook", { mobile: true });
  });

  test("a claim submitted over the API appears in the open Inbox within 2 s, and the title counts it", async () => {
    await goTo(page, "Inbox");
    await page.getByText("No pending requests").waitFor({ timeout: UI_TIMEOUT });
    await markDocument(page);
    await submit("Helper Bot", "alice@example.com");
    const row = inboxRow(page, "Helper Bot");
    await row.waitFor({ timeout: LIVE_MS });
    await expectTitle(page, "(1) Inbox — Sigilum", LIVE_MS);
    await expectNotReloaded(page);
    const text = (await row.textContent()) ?? "";
    expect(text).toContain(slug);
    expect(text).toContain("alice@example.com");
    expect(text).toContain("203.0.113.7");
    await row.getByRole("button", { name: "Copy agent key" }).click();
    const agentKey = (await api.get<{ agent_key: string }>(`/v1/claims/${claims["Helper Bot"]}`))
      .body.agent_key;
    expect([agentKey, agents["Helper Bot"]!.publicKey]).toContain(await clipboard());
    await row.getByRole("checkbox", { name: /^Select / }).waitFor({ timeout: UI_TIMEOUT });
    await checkPage(page, "inbox-pending", { mobile: true });
  });

  test("approve in the page, from the keyboard → GET /v1/verify says authorized", async () => {
    expect((await verify(agents["Helper Bot"]!)).authorized).toBe(false);
    // From the keyboard only: Tab reaches the row's Approve button and Enter presses it.
    const approve = inboxRow(page, "Helper Bot").getByRole("button", { name: /^Approve/ });
    const focused = () => approve.evaluate((el) => el === document.activeElement);
    for (let i = 0; i < 60 && !(await focused()); i++) await page.keyboard.press("Tab");
    expect(await focused()).toBe(true);
    await page.keyboard.press("Enter");
    await page.getByText("No pending requests").waitFor({ timeout: UI_TIMEOUT });
    await expectTitle(page, "Inbox — Sigilum");
    const verdict = await eventually(
      () => verify(agents["Helper Bot"]!),
      (v) => v.authorized,
    );
    expect(verdict).toMatchObject({ authorized: true, status: "approved" });
  });

  test("decisions made through the API update the open Inbox; reject asks for a reason", async () => {
    await markDocument(page);
    await submit("Crawler", "bob");
    await submit("Summarizer", "carol");
    await submit("Scheduler", "dave");
    await expectCount(rowButtons(page, "Approve"), 3, LIVE_MS);
    await expectTitle(page, "(3) Inbox — Sigilum", LIVE_MS);

    const rejected = await api.post(`/v1/claims/${claims.Crawler}/reject`, { reason: "unknown" });
    expect(rejected.status).toBe(200);
    await expectCount(inboxRow(page, "Crawler"), 0, LIVE_MS);
    await expectTitle(page, "(2) Inbox — Sigilum", LIVE_MS);
    await expectNotReloaded(page);

    await inboxRow(page, "Summarizer")
      .getByRole("button", { name: /^Reject/ })
      .click();
    await dialog(page).getByLabel("Reason").fill("not expected here");
    await checkPage(page, "inbox-reject-dialog");
    await confirmDialog(page, "Reject");
    await expectCount(inboxRow(page, "Summarizer"), 0);
    const claim = await api.get<{ status: string; reason: string | null }>(
      `/v1/claims/${claims.Summarizer}`,
    );
    expect(claim.body).toMatchObject({ status: "rejected", reason: "not expected here" });
    await expectTitle(page, "(1) Inbox — Sigilum");
  });

  test("bulk approve a selection", async () => {
    await submit("Indexer", "erin");
    await expectCount(rowButtons(page, "Approve"), 2, LIVE_MS);
    for (const name of ["Scheduler", "Indexer"])
      await inboxRow(page, name)
        .getByRole("checkbox", { name: /^Select / })
        .check();
    await page.getByRole("button", { name: "Approve selected" }).click();
    await page.getByText("No pending requests").waitFor({ timeout: UI_TIMEOUT });
    for (const name of ["Scheduler", "Indexer"])
      expect(
        (
          await eventually(
            () => verify(agents[name]!),
            (v) => v.authorized,
          )
        ).authorized,
      ).toBe(true);
  });

  test("names and subjects from agents are shown as text, never as HTML", async () => {
    const name = '<img src=x id="injected">Mallory';
    await submit(name, "<b>bold</b>");
    const row = inboxRow(page, "Mallory");
    await row.waitFor({ timeout: LIVE_MS });
    const text = (await row.textContent()) ?? "";
    expect(text).toContain(name);
    expect(text).toContain("<b>bold</b>");
    expect(await page.locator("#injected, main b").count()).toBe(0);
    const rejected = await api.post(`/v1/claims/${claims[name]}/reject`, {});
    expect(rejected.status).toBe(200);
    await page.getByText("No pending requests").waitFor({ timeout: LIVE_MS + UI_TIMEOUT });
  });

  test("Agents lists every claim, filterable; a claim page shows its history and revokes", async () => {
    await goTo(page, "Agents");
    const status = page.getByLabel("Status", { exact: true });
    await page.getByLabel("Service", { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    await page
      .getByRole("link", { name: /Crawler/ })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await checkPage(page, "agents", { mobile: true });
    await status.selectOption("rejected");
    await expectCount(page.getByRole("main").getByRole("link", { name: /Helper Bot/ }), 0);
    await page
      .getByRole("link", { name: /Crawler/ })
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    await status.selectOption("approved");
    const link = page.getByRole("main").getByRole("link", { name: /Helper Bot/ });
    await link.first().waitFor({ timeout: UI_TIMEOUT });
    await expectCount(page.getByRole("main").getByRole("link", { name: /Crawler/ }), 0);
    await link.first().click();
    await expectPath(page, `/agents/${claims["Helper Bot"]}`);
    await expectHeading(page, "Helper Bot");
    const history = page.getByRole("list", { name: "History" }).getByRole("listitem");
    await expectCount(history, 2);
    await checkPage(page, "claim", { mobile: true });

    await page.getByRole("button", { name: "Revoke" }).first().click();
    await confirmDialog(page, "Revoke");
    await expectCount(history, 3);
    expect(await verify(agents["Helper Bot"]!)).toMatchObject({
      authorized: false,
      status: "revoked",
    });
    await expectCount(page.getByRole("main").getByRole("button", { name: "Revoke" }), 0);
  });

  test("the webhook page's deliveries log shows what the receiver got; redeliver sends it again", async () => {
    // submitted ×6, approved ×3, rejected ×3, revoked ×1: every one delivered to the receiver
    const expected = 13;
    const got = await receiver.waitFor(expected, 10_000);
    expect(got).toHaveLength(expected);
    const delivered = await eventually(
      () =>
        api.get<{ deliveries: { status: string }[] }>(
          `/v1/services/${serviceId}/webhooks/${webhookId}/deliveries`,
        ),
      (r) => r.body.deliveries.filter((d) => d.status === "succeeded").length === expected,
    );
    expect(delivered.body.deliveries).toHaveLength(expected);

    await goTo(page, "Services");
    await page.getByRole("link", { name: serviceName }).first().click();
    await page.getByRole("link", { name: `${receiver.url}/hook` }).click();
    await expectPath(page, `/webhooks/${webhookId}`);
    await expectHeading(page, "Webhook");
    await page
      .getByRole("heading", { name: "Deliveries", exact: true })
      .waitFor({ timeout: UI_TIMEOUT });
    const redeliver = page.getByRole("button", { name: "Redeliver" });
    await expectCount(redeliver, expected);
    const main = (await page.getByRole("main").textContent()) ?? "";
    for (const event of new Set(got.map((r) => r.headers["x-sigilum-event"]!)))
      expect(main).toContain(event);
    await checkPage(page, "webhook", { mobile: true });

    const showAttempts = page.getByRole("button", { name: "Show attempts" });
    if ((await showAttempts.count()) > 0) await showAttempts.first().click();
    else await page.getByRole("main").locator("summary").first().click();
    await page.getByRole("main").getByText("200").first().waitFor({ timeout: UI_TIMEOUT });
    // The payload shown is exactly a body the receiver got (dashboard.md §2.6).
    const shown = JSON.parse((await page.getByLabel("Payload sent").first().textContent()) ?? "");
    expect(got.map((r) => JSON.parse(r.body))).toContainEqual(shown);
    await checkPage(page, "webhook-attempts");

    const before = new Set(got.map((r) => r.headers["x-sigilum-event-id"]));
    await redeliver.first().click();
    const again = await receiver.waitFor(expected + 1, 10_000);
    expect(again).toHaveLength(expected + 1);
    expect(before.has(again[expected]!.headers["x-sigilum-event-id"])).toBe(true);
    await expectCount(redeliver, expected + 1);
  });

  test("Send test event reaches the receiver and shows the result", async () => {
    const before = receiver.received.length;
    await page.getByRole("button", { name: "Send test event" }).click();
    const got = await receiver.waitFor(before + 1);
    expect(got[before]?.headers["x-sigilum-event"]).toBe("webhook.test");
    await page
      .getByRole("main")
      .getByText(/\b200\b/)
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
  });

  test("the webhook page filters deliveries, disables and enables, rotates the secret (shown once)", async () => {
    const redeliver = page.getByRole("button", { name: /^Redeliver/ });
    const count = async (state: string) =>
      (
        await api.get<{ deliveries: unknown[] }>(
          `/v1/services/${serviceId}/webhooks/${webhookId}/deliveries?status=${state}`,
        )
      ).body.deliveries.length;
    const status = page.getByLabel("Status", { exact: true });
    await status.selectOption("failed");
    await expectCount(redeliver, await count("failed"));
    await status.selectOption("succeeded");
    const succeeded = await count("succeeded");
    expect(succeeded).toBeGreaterThan(10);
    await expectCount(redeliver, succeeded);
    await status.selectOption("");

    const hook = async () =>
      (await api.get<{ enabled: boolean }>(`/v1/services/${serviceId}/webhooks/${webhookId}`)).body;
    await page.getByRole("button", { name: "Disable", exact: true }).click();
    expect((await eventually(hook, (h) => !h.enabled)).enabled).toBe(false);
    await page.getByRole("button", { name: "Enable", exact: true }).click();
    expect((await eventually(hook, (h) => h.enabled)).enabled).toBe(true);

    await page.getByRole("button", { name: "Rotate secret" }).click();
    await dialog(page).getByLabel("Grace period (hours)").fill("1");
    await dialog(page).getByRole("button", { name: "Rotate secret" }).click();
    const shown = dialog(page).getByLabel("Webhook secret", { exact: true });
    await shown.waitFor({ timeout: UI_TIMEOUT });
    const secret = (await shown.textContent())?.trim() ?? "";
    expect(secret).toMatch(/^whsec_/);
    await confirmDialog(page, "Done");
    expect(await page.content()).not.toContain(secret);
    // The receiver can check the next event with the new secret.
    const before = receiver.received.length;
    await page.getByRole("button", { name: "Send test event" }).click();
    const [got] = (await receiver.waitFor(before + 1)).slice(before);
    const header = got!.headers["x-sigilum-signature"] ?? "";
    const timestamp = /(?:^|,)t=(\d+)/.exec(header)?.[1];
    const expected = createHmac("sha256", secret).update(`${timestamp}.${got!.body}`).digest("hex");
    expect(header.split(",")).toContain(`v1=${expected}`);
  });

  test("Policy: auto-approve a service, then its next request is authorized without the inbox", async () => {
    await goTo(page, "Policy");
    await checkPage(page, "policy", { mobile: true });
    await page.getByRole("checkbox", { name: `Auto-approve ${slug}` }).check();
    await page.getByRole("button", { name: "Save policy" }).click();
    const policy = await eventually(
      () =>
        api.get<{ auto_approve_services: { slug: string }[] }>(
          `/v1/namespaces/${namespace}/policy`,
        ),
      (r) => r.body.auto_approve_services?.some((s) => s.slug === slug) ?? false,
    );
    expect(policy.body.auto_approve_services.map((s) => s.slug)).toEqual([slug]);
    await submit("Auto Agent", "frank");
    expect(
      (
        await eventually(
          () => verify(agents["Auto Agent"]!),
          (v) => v.authorized,
        )
      ).authorized,
    ).toBe(true);
  });

  test("Usage and Overview render, the overview with its two SVG charts", async () => {
    for (const [i, outcome] of ["success", "success", "error"].entries()) {
      const res = await fetch(`${t.url}/v1/usage/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          event_id: `usage-${i}`,
          namespace,
          service: slug,
          public_key: agents.Scheduler!.publicKey,
          subject: "dave",
          protocol: "http",
          action: "charges.create",
          outcome,
        }),
      });
      expect(res.status).toBe(201);
    }
    await goTo(page, "Usage");
    const table = page.getByRole("main").getByRole("table").first();
    await table.getByText("dave", { exact: true }).waitFor({ timeout: UI_TIMEOUT });
    await checkPage(page, "usage", { mobile: true });
    await goTo(page, "Overview");
    for (const name of ["Authorization requests per day", "Webhook deliveries per hour"])
      await page.getByLabel(name, { exact: true }).locator("svg").first().waitFor({
        timeout: UI_TIMEOUT,
      });
    await checkPage(page, "overview", { mobile: true });
  });

  test("edit the service, then delete it behind the typed slug", async () => {
    await goTo(page, "Services");
    await page.getByRole("link", { name: serviceName }).first().click();
    await page.getByRole("button", { name: "Edit service" }).click();
    const form = formWith(page, "Description");
    await form.getByLabel("Name", { exact: true }).fill("Payments v2");
    await form.getByRole("button", { name: "Save" }).click();
    await expectHeading(page, "Payments v2");
    await page.getByRole("button", { name: "Delete service" }).first().click();
    const confirm = dialog(page);
    // It names the consequences: keys and webhooks gone, the claims orphaned.
    const warning = (await confirm.textContent()) ?? "";
    for (const consequence of [/API keys/i, /webhooks/i, /orphaned/i])
      expect(warning).toMatch(consequence);
    await confirm.getByLabel("Type the slug to confirm").fill(slug);
    await checkPage(page, "service-delete-dialog");
    await confirmDialog(page, "Delete service");
    await expectPath(page, "/services");
    await expectCount(page.getByRole("link", { name: "Payments v2" }), 0);
    expect((await api.get<unknown>(`/v1/services/${serviceId}`)).status).toBe(404);
  });
});
