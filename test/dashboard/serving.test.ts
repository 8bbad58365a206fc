import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { dashboardAssets } from "../../src/dashboard/index.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

// dashboard.md §1: the shell and its hashed assets are served by the API's own server, with the
// strict security headers, and never shadow the API's JSON 404/405 answers.

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

function expectSecurityHeaders(res: Response) {
  expect(res.headers.get("content-security-policy")).toBe(CSP);
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("referrer-policy")).toBe("same-origin");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
}

/** The asset URLs the shell loads. */
function assetsOf(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
}

describe("the HTML shell", () => {
  for (const path of [
    "/",
    "/services/1b4e28ba-2fa1-41d2-883f-0016d3cca427",
    "/agents",
    "/signin",
  ]) {
    test(`${path} serves the shell with no-cache and every security header`, async () => {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expectSecurityHeaders(res);
      expect(res.headers.get("strict-transport-security")).toBeNull();
      const html = await res.text();
      expect(html).toContain('<div id="app">');
      expect(assetsOf(html).length).toBe(2);
    });
  }

  test("has no inline script or style the CSP would block", async () => {
    const html = await (await fetch(`${t.url}/`)).text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/assets\/app-[a-z0-9]+\.js"/);
      expect(body!.trim()).toBe("");
    }
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
  });

  test("HSTS is sent when the public URL is https", async () => {
    const https = await startTestServer({
      env: { SIGILUM_PUBLIC_URL: "https://registry.example.com" },
    });
    try {
      const res = await fetch(`${https.url}/account`);
      expect(res.status).toBe(200);
      expectSecurityHeaders(res);
      expect(res.headers.get("strict-transport-security")).toStartWith("max-age=31536000");
    } finally {
      await https.close();
    }
  });
});

describe("hashed assets", () => {
  test("are immutable, typed, and gzip-encoded when accepted", async () => {
    const html = await (await fetch(`${t.url}/`)).text();
    const [css] = assetsOf(html).filter((p) => p.endsWith(".css"));
    const [js] = assetsOf(html).filter((p) => p.endsWith(".js"));
    for (const [path, type] of [
      [js!, "text/javascript; charset=utf-8"],
      [css!, "text/css; charset=utf-8"],
    ] as const) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expectSecurityHeaders(res);
      expect((await res.text()).length).toBeGreaterThan(100);
    }
    const zipped = await fetch(`${t.url}${js}`, {
      headers: { "accept-encoding": "gzip" },
      decompress: false,
    });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
  });

  test("an unknown asset, or any path with a file extension, is a 404", async () => {
    for (const path of ["/assets/app-00000000.js", "/assets/", "/favicon.ico", "/robots.txt"]) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status).toBe(404);
      expectSecurityHeaders(res);
    }
  });

  test("the initial JavaScript stays within 150 KB gzipped (dashboard.md §1)", () => {
    // The scripts the shell loads, gzipped as they are served.
    const { shell, byName } = dashboardAssets();
    const names = [...shell.matchAll(/<script[^>]* src="\/assets\/([^"]+)"/g)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(0);
    const bytes = names.reduce((sum, n) => sum + Bun.gzipSync(byName.get(n)!.bytes).byteLength, 0);
    expect(bytes).toBeGreaterThan(5_000);
    expect(bytes).toBeLessThanOrEqual(150 * 1024);
  });

  test("the browser bundle carries no server code (the dashboard imports server types only)", () => {
    const scripts = [...dashboardAssets().byName.values()].filter((a) => a.name.endsWith(".js"));
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      const text = new TextDecoder().decode(script.bytes).toLowerCase();
      // A value import of a TypeBox model drags in Elysia and TypeBox (their names survive
      // minification in error strings); a feature's index.ts drags in the database driver too.
      for (const marker of ["elysia", "typebox", "drizzle", "libsql"])
        expect(`${script.name}: ${text.includes(marker)}`).toBe(`${script.name}: false`);
    }
  });
});

describe("the API keeps its own answers", () => {
  test("an unknown /v1 path is a JSON 404", async () => {
    for (const path of ["/v1/nope", "/v1", "/v1/services/x/nope", "/.well-known/nope"]) {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/json");
      expect(((await res.json()) as { code: string }).code).toBe("NOT_FOUND");
    }
  });

  test("a GET on a POST-only API route is a 405 with Allow, not the shell", async () => {
    const res = await fetch(`${t.url}/v1/auth/logout`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(((await res.json()) as { code: string }).code).toBe("METHOD_NOT_ALLOWED");
  });

  test("a wrong method on a known route is still 405; on a dashboard path it is 404", async () => {
    const res = await fetch(`${t.url}/v1/services`, { method: "PUT" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("GET");
    const other = await fetch(`${t.url}/agents`, { method: "DELETE" });
    expect(other.status).toBe(404);
    expect(other.headers.get("allow")).toBeNull();
  });

  test("the dashboard's routes are not in the OpenAPI document", async () => {
    const spec = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(
      Object.keys(spec.paths).filter((p) => !p.startsWith("/v1") && !p.startsWith("/.")),
    ).not.toContain("/*");
    expect(Object.keys(spec.paths).some((p) => p.includes("*"))).toBe(false);
  });
});
