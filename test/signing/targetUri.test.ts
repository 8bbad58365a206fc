/** @target-uri normalisation (§4, §8) and the URL the server rebuilds behind proxies. */
import { describe, expect, test } from "bun:test";
import {
  normalizeTargetUri,
  rebuildTargetUri,
  verifySignedRequest,
} from "../../src/signing/index.ts";
import { NOW_MS, signedFixture } from "./support.ts";

describe("normalizeTargetUri", () => {
  test.each([
    ["fragment stripped", "https://a.example/v1/x?y=1#frag", "https://a.example/v1/x?y=1"],
    ["empty fragment stripped", "https://a.example/v1/x#", "https://a.example/v1/x"],
    [":8443 kept", "https://a.example:8443/v1/x", "https://a.example:8443/v1/x"],
    [":443 on https dropped", "https://a.example:443/v1/x", "https://a.example/v1/x"],
    [":80 on http dropped", "http://a.example:80/v1/x", "http://a.example/v1/x"],
    [":443 on http kept", "http://a.example:443/v1/x", "http://a.example:443/v1/x"],
    ["%2F kept verbatim", "https://a.example/v1/a%2Fb/c%2f", "https://a.example/v1/a%2Fb/c%2f"],
    ["empty path becomes /", "https://a.example", "https://a.example/"],
    ["empty path with query", "https://a.example?x=1", "https://a.example/?x=1"],
    ["query order kept", "https://a.example/v1?z=1&a=2&z=0", "https://a.example/v1?z=1&a=2&z=0"],
    [
      "query bytes kept",
      "https://a.example/v1?q=a%20b+c&e=%7E",
      "https://a.example/v1?q=a%20b+c&e=%7E",
    ],
    ["host lower-cased", "https://API.Example.COM/V1/X", "https://api.example.com/V1/X"],
    ["scheme lower-cased", "HTTPS://a.example/v1", "https://a.example/v1"],
  ])("%s", (_name, input, expected) => {
    expect(normalizeTargetUri(input)).toBe(expected);
    expect(normalizeTargetUri(new URL(input))).toBe(expected);
    expect(normalizeTargetUri(expected)).toBe(expected);
  });

  test("throws on a non-URL", () => {
    expect(() => normalizeTargetUri("/relative")).toThrow();
  });
});

describe("rebuildTargetUri", () => {
  const requestUrl = "http://127.0.0.1:3000/v1/x?b=2&a=1";
  const forwarded = new Headers({
    "x-forwarded-proto": "https",
    "x-forwarded-host": "public.example",
  });

  test("without configuration: the request as received", () => {
    const rebuilt = rebuildTargetUri({ requestUrl, trustProxy: false, headers: forwarded });
    expect(rebuilt).toBe("http://127.0.0.1:3000/v1/x?b=2&a=1");
  });

  test("SIGILUM_PUBLIC_URL supplies scheme, host and port; path and query come from the request", () => {
    const publicUrl = new URL("https://Public.Example:8443/ignored/prefix?q=1#f");
    const rebuilt = rebuildTargetUri({
      requestUrl,
      publicUrl,
      trustProxy: true,
      headers: forwarded,
    });
    expect(rebuilt).toBe("https://public.example:8443/v1/x?b=2&a=1");
  });

  test("a request path starting with // cannot change the host", () => {
    const publicUrl = new URL("https://public.example");
    const rebuilt = rebuildTargetUri({
      requestUrl: "http://127.0.0.1:3000//evil.example/x",
      publicUrl,
      trustProxy: false,
      headers: new Headers(),
    });
    expect(new URL(rebuilt).host).toBe("public.example");
  });

  test("trusted proxy: X-Forwarded-Proto and X-Forwarded-Host", () => {
    const rebuilt = rebuildTargetUri({ requestUrl, trustProxy: true, headers: forwarded });
    expect(rebuilt).toBe("https://public.example/v1/x?b=2&a=1");
  });

  test("trusted proxy: the first of several hops wins, default port dropped", () => {
    const headers = new Headers({
      "x-forwarded-proto": "HTTPS, http",
      "x-forwarded-host": "public.example:443, inner.local",
    });
    expect(rebuildTargetUri({ requestUrl, trustProxy: true, headers })).toBe(
      "https://public.example/v1/x?b=2&a=1",
    );
  });

  test("trusted proxy: only the proto forwarded keeps the request host", () => {
    const headers = new Headers({ "x-forwarded-proto": "https" });
    const rebuilt = rebuildTargetUri({
      requestUrl: "http://api.example/v1",
      trustProxy: true,
      headers,
    });
    expect(rebuilt).toBe("https://api.example/v1");
  });

  test.each(["evil.example/path", "user@evil.example", "evil.example?x", ""])(
    "trusted proxy: malformed X-Forwarded-Host %p is ignored",
    (host) => {
      const headers = new Headers({ "x-forwarded-host": host, "x-forwarded-proto": "gopher" });
      expect(rebuildTargetUri({ requestUrl, trustProxy: true, headers })).toBe(
        "http://127.0.0.1:3000/v1/x?b=2&a=1",
      );
    },
  );
});

describe("behind a TLS-terminating proxy (§8)", () => {
  const PUBLIC = "https://public.example/v1/x?b=2";
  const RECEIVED = "http://10.0.0.5:8080/v1/x?b=2";

  async function verifyBehindProxy(source: {
    publicUrl?: URL | null;
    trustProxy: boolean;
    proxyHeaders?: Record<string, string>;
  }) {
    const fixture = await signedFixture({ method: "GET", url: PUBLIC, body: undefined });
    for (const [name, value] of Object.entries(source.proxyHeaders ?? {}))
      fixture.headers.set(name, value);
    const targetUri = rebuildTargetUri({
      requestUrl: RECEIVED,
      headers: fixture.headers,
      ...source,
    });
    return verifySignedRequest({ ...fixture, targetUri, now: NOW_MS });
  }

  test("verifies when SIGILUM_PUBLIC_URL says https://public.example", async () => {
    const result = await verifyBehindProxy({
      publicUrl: new URL("https://public.example"),
      trustProxy: false,
    });
    expect(result.ok).toBe(true);
  });

  test("fails when SIGILUM_PUBLIC_URL names another origin", async () => {
    const result = await verifyBehindProxy({
      publicUrl: new URL("https://other.example"),
      trustProxy: false,
    });
    expect(result.ok || result.code).toBe("SIGNATURE_INVALID");
  });

  test("fails when nothing is configured", async () => {
    const result = await verifyBehindProxy({ trustProxy: false });
    expect(result.ok || result.code).toBe("SIGNATURE_INVALID");
  });

  const PROXY = { "x-forwarded-proto": "https", "x-forwarded-host": "public.example" };

  test("verifies with SIGILUM_TRUST_PROXY and X-Forwarded-*", async () => {
    expect((await verifyBehindProxy({ trustProxy: true, proxyHeaders: PROXY })).ok).toBe(true);
  });

  test("X-Forwarded-* are ignored unless the proxy is trusted", async () => {
    const result = await verifyBehindProxy({ trustProxy: false, proxyHeaders: PROXY });
    expect(result.ok || result.code).toBe("SIGNATURE_INVALID");
  });
});
