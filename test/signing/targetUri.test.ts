/** @target-uri normalisation (§4, §8) and the URL the server rebuilds behind proxies. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  expectedComponents,
  normalizeTargetUri,
  rebuildReceivedTargetUri,
  rebuildTargetUri,
  verifySignedRequest,
} from "../../src/signing/index.ts";
import { fixedIdentity, identityHeaders, NOW_MS, signCustom, signedFixture } from "./support.ts";

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

  test("a bare trailing ? is kept, as WHATWG keeps it", () => {
    const rebuilt = rebuildTargetUri({
      requestUrl: "http://127.0.0.1:3000/v1/x?",
      publicUrl: new URL("https://public.example"),
      trustProxy: false,
      headers: new Headers(),
    });
    expect(rebuilt).toBe("https://public.example/v1/x?");
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

describe("rebuildReceivedTargetUri (§4: the URL as received, tried when the WHATWG form fails)", () => {
  const source = (requestUrl: string, headers: Record<string, string>, extra = {}) => ({
    requestUrl,
    trustProxy: false,
    headers: new Headers(headers),
    ...extra,
  });

  test.each([
    [
      "Host as sent (case kept), raw ' put back in the query",
      source("http://localhost:8080/v1/x?q=it%27s", { host: "LOCALHOST:8080" }),
      "http://LOCALHOST:8080/v1/x?q=it's",
    ],
    [
      "a ? inside the query and a bare trailing ? are kept",
      source("http://a.example/v1/x?a=%27?b=%27", { host: "A.example" }),
      "http://A.example/v1/x?a='?b='",
    ],
    [
      "an empty query keeps its ?",
      source("http://a.example/v1/x?", { host: "A.example" }),
      "http://A.example/v1/x?",
    ],
    [
      "an explicit default port in Host is kept",
      source("http://localhost/v1/x", { host: "localhost:80" }),
      "http://localhost:80/v1/x",
    ],
    [
      "percent-escapes other than %27 are left alone",
      source("http://a.example/v1/x?q=%27%20%2F%22", { host: "a.example" }),
      "http://a.example/v1/x?q='%20%2F%22",
    ],
    [
      "SIGILUM_PUBLIC_URL: its origin as configured, the raw query",
      source(
        "http://127.0.0.1:3000/v1/x?q=it%27s",
        { host: "127.0.0.1:3000" },
        { publicUrl: new URL("https://registry.example.com") },
      ),
      "https://registry.example.com/v1/x?q=it's",
    ],
    [
      "SIGILUM_PUBLIC_URL: a Host that spells the public host in another case is kept",
      source(
        "http://registry.example.com/v1/x",
        { host: "Registry.Example.COM" },
        { publicUrl: new URL("https://registry.example.com") },
      ),
      "https://Registry.Example.COM/v1/x",
    ],
    [
      "SIGILUM_PUBLIC_URL: a Host naming another host is never used",
      source(
        "http://evil.example/v1/x?q=%27",
        { host: "EVIL.example" },
        { publicUrl: new URL("https://registry.example.com") },
      ),
      "https://registry.example.com/v1/x?q='",
    ],
    [
      "trusted proxy: X-Forwarded-Host as sent",
      source(
        "http://10.0.0.5:8080/v1/x",
        {
          host: "10.0.0.5:8080",
          "x-forwarded-host": "Public.Example",
          "x-forwarded-proto": "https",
        },
        { trustProxy: true },
      ),
      "https://Public.Example/v1/x",
    ],
    [
      "untrusted proxy: X-Forwarded-Host ignored, Host as sent",
      source("http://api.example/v1/x?a=%27", {
        host: "API.example",
        "x-forwarded-host": "Public.Example",
      }),
      "http://API.example/v1/x?a='",
    ],
  ])("%s", (_name, input, expected) => {
    expect(rebuildReceivedTargetUri(input)).toBe(expected);
  });

  test("null when the received spelling is the WHATWG one (no second verify)", () => {
    const input = source("http://a.example/v1/x?q=1", { host: "a.example" });
    expect(rebuildReceivedTargetUri(input)).toBeNull();
    expect(rebuildReceivedTargetUri(source("http://a.example/v1/x", {}))).toBeNull();
  });

  test("property: the received form is always another spelling of the WHATWG form", () => {
    const hostCase = fc.array(fc.boolean(), { minLength: 9, maxLength: 9 });
    const query = fc.array(fc.constantFrom("a", "'", "%27", "=", "&", "%20", "?", "b"), {
      maxLength: 12,
    });
    fc.assert(
      fc.property(hostCase, query, (upper, parts) => {
        const host = [..."a.example"].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join("");
        const requestUrl = new URL(`http://a.example/v1/x?${parts.join("")}`).href;
        const input = source(requestUrl, { host });
        const whatwg = rebuildTargetUri(input);
        const received = rebuildReceivedTargetUri(input) ?? whatwg;
        expect(normalizeTargetUri(received)).toBe(whatwg);
      }),
    );
  });
});

describe("verifySignedRequest with the received form as fallback", () => {
  const RAW = "http://LOCALHOST:8080/v1/x?q=it's";
  const WHATWG = "http://localhost:8080/v1/x?q=it%27s";

  async function signedRaw(targetUri: string) {
    const identity = await fixedIdentity();
    const headers = signCustom({
      identity,
      method: "GET",
      targetUri,
      headers: identityHeaders(identity),
      components: expectedComponents({ hasBody: false, hasAgentId: false }),
    });
    return { method: "GET", headers, body: new Uint8Array(), now: NOW_MS };
  }

  test("signed over the raw URL: WHATWG alone fails, with the received form it verifies", async () => {
    const request = await signedRaw(RAW);
    const alone = await verifySignedRequest({ ...request, targetUri: WHATWG });
    expect(alone.ok || alone.code).toBe("SIGNATURE_INVALID");
    const withFallback = await verifySignedRequest({
      ...request,
      targetUri: WHATWG,
      receivedTargetUri: RAW,
    });
    expect(withFallback.ok).toBe(true);
  });

  test("signed over the WHATWG form: verifies first time, the fallback is not needed", async () => {
    const request = await signedRaw(WHATWG);
    const result = await verifySignedRequest({
      ...request,
      targetUri: WHATWG,
      receivedTargetUri: "http://unrelated.example/",
    });
    expect(result.ok).toBe(true);
  });

  test("signed over a third spelling: neither verifies → SIGNATURE_INVALID", async () => {
    const request = await signedRaw("http://LOCALHOST:8080/v1/x?q=its");
    const result = await verifySignedRequest({
      ...request,
      targetUri: WHATWG,
      receivedTargetUri: RAW,
    });
    expect(result.ok || result.code).toBe("SIGNATURE_INVALID");
  });
});
