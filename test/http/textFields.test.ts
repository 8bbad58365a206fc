import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Agent, newAgent, submitClaim } from "../helpers/agent.ts";
import { expectError } from "../helpers/assertions.ts";
import { everyRow } from "../helpers/rows.ts";
import {
  ApiClient,
  type JsonResponse,
  PASSWORD,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  Claim,
  ClaimSubmitted,
  ClaimWithHistory,
  Service,
  WebhookCreated,
} from "../helpers/types.ts";

// http-api.md §1.1: text fields reject NUL, the other C0 controls (tab and newline included),
// DEL, C1 controls and lone surrogates with 400 VALIDATION_ERROR, on every route that takes text;
// nothing is stored. Other unicode (emoji, i.e. surrogate *pairs*, NBSP, CJK) is text.

const CONTROLS = [
  "\u0000",
  "\u0001",
  "\u0007",
  "\t",
  "\n",
  "\r",
  "\u000b",
  "\u001b",
  "\u001f",
  "\u007f",
  "\u0080",
  "\u0085",
  "\u009f",
];
const LONE_SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\udc00\ud800"];
const BAD = [...CONTROLS, ...LONE_SURROGATES];

let t: TestServer;
let s: ServiceSetup;
let agent: Agent;
let pendingId: string;
let approvedId: string;
let webhookId: string;

beforeAll(async () => {
  t = await startTestServer();
  s = await ownerWithKey(t);
  agent = await newAgent(s.namespace);
  pendingId = (await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug)).body.claim_id;
  approvedId = (await submitClaim<ClaimSubmitted>(t, await newAgent(s.namespace), s.apiKey, s.slug))
    .body.claim_id;
  expect((await s.client.post<Claim>(`/v1/claims/${approvedId}/approve`)).status).toBe(200);
  const hook = await s.client.post<WebhookCreated>(`/v1/services/${s.serviceId}/webhooks`, {
    url: "https://hooks.example.com/text",
  });
  webhookId = hook.body.id;
});
afterAll(() => t.close());

interface TextField {
  label: string;
  field: string;
  /** Sends a request that is valid except that `field` holds `value`. */
  send: (value: string) => Promise<JsonResponse<ApiErrorBody>>;
}

const svc = () => `/v1/services/${s.serviceId}`;
const anonymous = () => new ApiClient(t.url, t.origin);

function signupWith(field: "namespace" | "email", value: string) {
  const namespace = uniqueName("txt");
  const body = { namespace, email: `${namespace}@example.com`, password: PASSWORD };
  return anonymous().post<ApiErrorBody>("/v1/auth/signup", { ...body, [field]: value });
}

function claimWith(field: string, value: string) {
  return submitClaim<ApiErrorBody>(t, agent, s.apiKey, s.slug, { [field]: value });
}

const FIELDS: TextField[] = [
  { label: "signup", field: "namespace", send: (v) => signupWith("namespace", `ns-${v}-x`) },
  { label: "signup", field: "email", send: (v) => signupWith("email", `a${v}b@example.com`) },
  {
    label: "login",
    field: "login",
    send: (v) =>
      anonymous().post<ApiErrorBody>("/v1/auth/login", {
        login: `${s.namespace}${v}`,
        password: "x",
      }),
  },
  {
    label: "token",
    field: "name",
    send: (v) => s.client.post<ApiErrorBody>("/v1/auth/tokens", { name: `ci${v}` }),
  },
  {
    label: "service create",
    field: "slug",
    send: (v) => s.client.post<ApiErrorBody>("/v1/services", { slug: `svc-${v}-x`, name: "N" }),
  },
  {
    label: "service create",
    field: "name",
    send: (v) =>
      s.client.post<ApiErrorBody>("/v1/services", { slug: uniqueName("t"), name: `N${v}N` }),
  },
  {
    label: "service create",
    field: "description",
    send: (v) =>
      s.client.post<ApiErrorBody>("/v1/services", {
        slug: uniqueName("t"),
        name: "N",
        description: `d${v}d`,
      }),
  },
  {
    label: "service update",
    field: "name",
    send: (v) => s.client.patch<ApiErrorBody>(svc(), { name: `N${v}` }),
  },
  {
    label: "service update",
    field: "description",
    send: (v) => s.client.patch<ApiErrorBody>(svc(), { description: `${v}d` }),
  },
  {
    label: "key",
    field: "name",
    send: (v) => s.client.post<ApiErrorBody>(`${svc()}/keys`, { name: `k${v}` }),
  },
  {
    label: "webhook create",
    field: "description",
    send: (v) =>
      s.client.post<ApiErrorBody>(`${svc()}/webhooks`, {
        url: "https://hooks.example.com/y",
        description: `d${v}`,
      }),
  },
  {
    label: "webhook update",
    field: "description",
    send: (v) =>
      s.client.patch<ApiErrorBody>(`${svc()}/webhooks/${webhookId}`, { description: `d${v}` }),
  },
  ...(["approve", "reject"] as const).map((action) => ({
    label: action,
    field: "reason",
    send: (v: string) =>
      s.client.post<ApiErrorBody>(`/v1/claims/${pendingId}/${action}`, { reason: `r${v}` }),
  })),
  {
    label: "revoke",
    field: "reason",
    send: (v) =>
      s.client.post<ApiErrorBody>(`/v1/claims/${approvedId}/revoke`, { reason: `r${v}` }),
  },
  ...(["auto_approve_services", "blocked_services"] as const).map((list) => ({
    label: "policy",
    field: `${list}.0`,
    send: (v: string) =>
      s.client.put<ApiErrorBody>(`/v1/namespaces/${s.namespace}/policy`, {
        [list]: [`${s.slug}${v}`],
      }),
  })),
  // The service-facing submit ignores unknown fields but still refuses dirty text.
  ...["subject", "agent_id", "agent_name"].map((field) => ({
    label: "claim submit",
    field,
    send: (v: string) => claimWith(field, `x${v}y`),
  })),
  {
    label: "claim submit",
    field: "nonce",
    send: (v) => claimWith("nonce", `nonce-${v}-${Date.now()}`),
  },
];

describe("control characters and lone surrogates in text fields", () => {
  test.each(FIELDS.map((f) => [`${f.label} ${f.field}`, f] as const))(
    "%s → 400 VALIDATION_ERROR naming the field; nothing stored",
    async (_label, f) => {
      const before = await everyRow(t);
      for (const value of BAD) {
        const res = await f.send(value);
        try {
          expectError(res, 400, "VALIDATION_ERROR");
          const detail = res.body.details!.find((d: { field: string }) => d.field === f.field);
          expect(detail).toBeDefined();
        } catch (err) {
          throw new Error(
            `${f.label} ${f.field} ${JSON.stringify(value)}: ${(err as Error).message}`,
          );
        }
      }
      expect(await everyRow(t)).toBe(before);
    },
  );

  test("the message says what is wrong", async () => {
    const res = await s.client.post<ApiErrorBody>("/v1/services", {
      slug: uniqueName("t"),
      name: "a\u0000b",
    });
    expectError(res, 400, "VALIDATION_ERROR");
    expect(res.body.details).toEqual([
      { field: "name", message: expect.stringContaining("control characters") },
    ]);
  });

  test("query text: the claims list's service filter", async () => {
    const before = await everyRow(t);
    for (const value of CONTROLS) {
      const res = await s.client.get<ApiErrorBody>(
        `/v1/namespaces/${s.namespace}/claims?service=${encodeURIComponent(`${s.slug}${value}`)}`,
      );
      expectError(res, 400, "VALIDATION_ERROR");
      expect(res.body.details!.map((d: { field: string }) => d.field)).toContain("service");
    }
    expect(await everyRow(t)).toBe(before);
  });

  test("webhook URLs with control characters → 400 INVALID_WEBHOOK_URL (the URL parser would drop tabs and newlines)", async () => {
    const before = await everyRow(t);
    for (const value of CONTROLS) {
      const url = `https://hooks.exa${value}mple.com/x`;
      expectError(
        await s.client.post<ApiErrorBody>(`${svc()}/webhooks`, { url }),
        400,
        "INVALID_WEBHOOK_URL",
      );
      expectError(
        await s.client.patch<ApiErrorBody>(`${svc()}/webhooks/${webhookId}`, { url }),
        400,
        "INVALID_WEBHOOK_URL",
      );
    }
    expect(await everyRow(t)).toBe(before);
  });

  test("other unicode is text: emoji (surrogate pairs), NBSP, CJK, zero-width space", async () => {
    const text = "🚀 x\u00a0y 中文 z\u200bw 👩‍💻";
    const created = await s.client.post<Service>("/v1/services", {
      slug: uniqueName("uni"),
      name: text,
      description: text,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: text, description: text });
    const claim = await submitClaim<ClaimSubmitted>(
      t,
      await newAgent(s.namespace),
      s.apiKey,
      s.slug,
      {
        subject: text,
        agent_name: text,
      },
    );
    expect(claim.status).toBe(201);
    const stored = await s.client.get<ClaimWithHistory>(`/v1/claims/${claim.body.claim_id}`);
    expect(stored.body).toMatchObject({ subject: text, agent_name: text });
    const decided = await s.client.post<Claim>(`/v1/claims/${claim.body.claim_id}/reject`, {
      reason: text,
    });
    expect(decided.body.reason).toBe(text);
  });
});
