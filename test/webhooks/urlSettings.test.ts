import { describe, expect, test } from "bun:test";
import { checkWebhookUrl, type UrlPolicy } from "../../src/webhooks/ssrfGuard.ts";
import { ownerWithService, startTestServer } from "../helpers/server.ts";
import type { ApiErrorBody, WebhookCreated } from "../helpers/types.ts";

// webhooks.md §5: SIGILUM_WEBHOOK_ALLOW_PRIVATE lifts the address check and the host-name rule
// (localhost, host.docker.internal, *.svc.cluster.local then work), and a refusal names every
// setting that would allow the URL, scheme and address at once, so one restart does.

const HTTP = "SIGILUM_WEBHOOK_ALLOW_HTTP=true";
const PRIVATE = "SIGILUM_WEBHOOK_ALLOW_PRIVATE=true";
const CIDRS = "SIGILUM_WEBHOOK_ALLOWED_CIDRS";

function policy(extra: Partial<UrlPolicy> = {}, answers = ["10.0.0.7"]) {
  const calls: string[] = [];
  const p: UrlPolicy = {
    allowHttp: false,
    allowPrivate: false,
    allowedCidrs: [],
    resolve: async (host) => {
      calls.push(host);
      return answers;
    },
    ...extra,
  };
  return { policy: p, calls };
}

async function reason(raw: string, p: UrlPolicy): Promise<string> {
  const result = await checkWebhookUrl(raw, p);
  if (result.ok) throw new Error(`expected ${raw} to be refused`);
  return result.reason;
}

describe("SIGILUM_WEBHOOK_ALLOW_PRIVATE lifts the host-name rule", () => {
  test.each([
    "https://localhost/hook",
    "https://LOCALHOST./hook",
    "https://host.docker.internal:8080/hook",
    "https://receiver.default.svc.cluster.local/hook",
    "https://printer.local/hook",
    "https://app.localhost/hook",
  ])("%s is accepted with allowPrivate", async (raw) => {
    const { policy: p } = policy({ allowPrivate: true });
    const result = await checkWebhookUrl(raw, p);
    expect(result.ok).toBe(true);
  });

  test.each([
    ["https://localhost/hook", "localhost"],
    ["https://host.docker.internal/hook", "host.docker.internal"],
    ["https://receiver.svc.cluster.local/hook", "receiver.svc.cluster.local"],
  ])(
    "without it, %s is refused by name, naming the setting, without resolving",
    async (raw, host) => {
      const { policy: p, calls } = policy();
      const why = await reason(raw, p);
      expect(why).toContain(`webhook host '${host}' is not allowed`);
      expect(why).toContain(PRIVATE);
      expect(why).not.toContain("ALLOW_HTTP");
      expect(calls).toEqual([]);
    },
  );

  test("allowed CIDRs do not lift the name rule (only the address check)", async () => {
    const { policy: p } = policy({
      allowedCidrs: [{ bytes: new Uint8Array([127, 0, 0, 0]), prefix: 8 }],
    });
    expect(await reason("https://localhost/hook", p)).toContain(PRIVATE);
  });
});

describe("one refusal names every setting that must change", () => {
  test("http://localhost:3000/hook names both settings in one message", async () => {
    const why = await reason("http://localhost:3000/hook", policy().policy);
    expect(why).toContain(HTTP);
    expect(why).toContain(PRIVATE);
  });

  test("with only allow-http set, it names only allow-private, and the other way round", async () => {
    const onlyHttp = await reason("http://localhost:3000/hook", policy({ allowHttp: true }).policy);
    expect(onlyHttp).toContain(PRIVATE);
    expect(onlyHttp).not.toContain("ALLOW_HTTP");
    const onlyPrivate = await reason(
      "http://localhost:3000/hook",
      policy({ allowPrivate: true }).policy,
    );
    expect(onlyPrivate).toBe(
      "webhook URL must use https (set SIGILUM_WEBHOOK_ALLOW_HTTP=true to allow http)",
    );
  });

  test("http to a private IP literal names allow-http and the address settings", async () => {
    const why = await reason("http://127.0.0.1:3000/hook", policy().policy);
    expect(why).toContain(HTTP);
    expect(why).toContain(PRIVATE);
    expect(why).toContain(CIDRS);
    expect(why).toContain("127.0.0.0/8 (loopback)");
  });

  test("http to a name resolving to a private address names both too", async () => {
    const { policy: p, calls } = policy({}, ["192.168.1.5"]);
    const why = await reason("http://nas.example.com/hook", p);
    expect(calls).toEqual(["nas.example.com"]);
    expect(why).toContain(HTTP);
    expect(why).toContain(PRIVATE);
    expect(why).toContain("192.168.1.5");
  });

  test("settings cannot fix credentials or other schemes; those say so alone", async () => {
    expect(await reason("ftp://localhost/x", policy().policy)).toBe("webhook URL must use https");
    expect(await reason("http://u:p@localhost/x", policy().policy)).toBe(
      "webhook URL must not contain credentials",
    );
  });

  test("with both settings off, a public http URL still only needs allow-http", async () => {
    const { policy: p } = policy({}, ["93.184.216.34"]);
    expect(await reason("http://hooks.example.com/x", p)).toBe(
      "webhook URL must use https (set SIGILUM_WEBHOOK_ALLOW_HTTP=true to allow http)",
    );
  });
});

describe("over HTTP", () => {
  test("with both settings, http://localhost:3000/hook and host.docker.internal are accepted", async () => {
    const t = await startTestServer({
      env: { SIGILUM_WEBHOOK_ALLOW_HTTP: "true", SIGILUM_WEBHOOK_ALLOW_PRIVATE: "true" },
    });
    try {
      const { client, service } = await ownerWithService(t);
      const path = `/v1/services/${service.id}/webhooks`;
      for (const url of ["http://localhost:3000/hook", "http://host.docker.internal:3000/hook"]) {
        const res = await client.post<WebhookCreated>(path, { url });
        expect(res.status).toBe(201);
        expect(res.body.url).toBe(url);
      }
    } finally {
      await t.close();
    }
  });

  test("with neither, one 400 INVALID_WEBHOOK_URL names both settings", async () => {
    const t = await startTestServer();
    try {
      const { client, service } = await ownerWithService(t);
      const res = await client.post<ApiErrorBody>(`/v1/services/${service.id}/webhooks`, {
        url: "http://localhost:3000/hook",
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("INVALID_WEBHOOK_URL");
      expect(res.body.error).toContain(HTTP);
      expect(res.body.error).toContain(PRIVATE);
    } finally {
      await t.close();
    }
  });
});
