import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";

// /docs: the human-readable reference, rendered from /openapi.json with no external asset.

let t: TestServer;
let html: string;
let spec: { paths: Record<string, Record<string, { operationId: string }>> };

beforeAll(async () => {
  t = await startTestServer();
  const res = await fetch(`${t.url}/docs`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/html");
  html = await res.text();
  spec = (await (await fetch(`${t.url}/openapi.json`)).json()) as typeof spec;
});
afterAll(() => t.close());

describe("/docs", () => {
  test("shows every operation: its id, method and path", () => {
    const missing = Object.entries(spec.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod)
        .filter(
          ([method, op]) =>
            !html.includes(`id="${op.operationId}"`) ||
            !html.includes(`<span class="m ${method}">${method.toUpperCase()}</span>`) ||
            !html.includes(`<code class="path">${path}</code>`),
        )
        .map(([method]) => `${method} ${path}`),
    );
    expect(missing).toEqual([]);
  });

  test("states each operation's authentication", () => {
    for (const label of [
      "Auth: Public",
      "Auth: owner session or personal access token",
      "Auth: service API key + agent signature",
      "Auth: service API key or agent signature",
      "Auth: service API key or agent signature or owner session or personal access token",
    ])
      expect(html).toContain(label);
    const submit = html.slice(html.indexOf('id="submitClaim"'));
    expect(submit.slice(0, submit.indexOf("</section>"))).toContain(
      "Auth: service API key + agent signature",
    );
  });

  test("shows parameters, bodies, response fields and error codes", () => {
    const op = html.slice(html.indexOf('id="createService"'));
    const section = op.slice(0, op.indexOf("</section>"));
    expect(section).toContain("<h4>Request body</h4>");
    expect(section).toContain("<code>slug</code>");
    expect(section).toContain("<b>201</b>");
    expect(section).toContain('<code>active_key_count</code> <span class="type">integer</span>');
    expect(section).toContain("<b>409</b>");
    expect(html).toContain(
      '<code>limit</code> <span class="in">query</span> <span class="type">integer 1–200</span>',
    );
    expect(html).toContain('id="errors"');
  });

  test("works on a phone and in the dark, offline", () => {
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain("prefers-color-scheme:dark");
    expect(html).toContain("overflow-wrap:anywhere");
    expect(html).not.toMatch(/<(script|link)\b/);
    expect(html).not.toMatch(/(src|href)="https?:/);
  });
});
