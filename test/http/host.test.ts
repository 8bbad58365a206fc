import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { rawRequest } from "../helpers/rawHttp.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { Claim, ClaimSubmitted } from "../helpers/types.ts";

// Host values a client can send that Bun still answers: short ones, a bare port, IPv6, ones that
// are not valid URL hosts (Bun then hands the app a path-only URL), and none at all.
const HOSTS = ["a", "ab", "abc", "a:1", "[::1]", "abcd", "%2F", "a:1:2", "a/b", "ünï", ""];

describe("routing never depends on the Host header (http-api.md §1.1)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  for (const host of HOSTS) {
    test(`Host: ${JSON.stringify(host)} routes like any other`, async () => {
      const port = t.server.port;
      const health = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: ${host}`);
      expect(health.status).toBe(200);
      expect(JSON.parse(health.body)).toEqual({ status: "ok" });

      const me = await rawRequest(port, `GET /v1/auth/me HTTP/1.1\r\nHost: ${host}`);
      expect(me.status).toBe(401);
      expect(JSON.parse(me.body).code).toBe("UNAUTHORIZED");

      const nested = await rawRequest(
        port,
        `GET /v1/services/00000000-0000-4000-8000-000000000000/keys HTTP/1.1\r\nHost: ${host}`,
      );
      expect(nested.status).toBe(401);

      const body = JSON.stringify({ login: "nobody-here", password: "not the password" });
      const login = await rawRequest(
        port,
        `POST /v1/auth/login HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}`,
        body,
      );
      expect(login.status).toBe(401);
      expect(JSON.parse(login.body).code).toBe("INVALID_CREDENTIALS");

      const empty = await rawRequest(port, `GET /v1//services HTTP/1.1\r\nHost: ${host}`);
      expect(empty.status).toBe(404);
      expect(JSON.parse(empty.body).code).toBe("NOT_FOUND");
    });
  }

  test("an HTTP/1.0 request without a Host header is routed too", async () => {
    const res = await rawRequest(t.server.port, "GET /healthz HTTP/1.0");
    expect(res.status).toBe(200);
  });
});

describe("the DID document's service endpoint and shared caches (http-api.md §6)", () => {
  async function withApprovedService(t: TestServer, publicUrl?: string): Promise<ServiceSetup> {
    const s = await ownerWithKey(publicUrl ? { ...t, origin: publicUrl } : t);
    const agent = await newAgent(s.namespace);
    const signedUrl = publicUrl ? `${publicUrl}/v1/claims` : undefined;
    const { body } = await submitClaim<ClaimSubmitted>(
      t,
      agent,
      s.apiKey,
      s.slug,
      {},
      { signedUrl },
    );
    const approved = await s.client.post<Claim>(`/v1/claims/${body.claim_id}/approve`);
    expect(approved.status).toBe(200);
    return s;
  }

  async function endpointFor(t: TestServer, s: ServiceSetup, headers: Record<string, string>) {
    const res = await fetch(`${t.url}/.well-known/did/did:sigilum:${s.namespace}`, { headers });
    expect(res.status).toBe(200);
    const doc = await res.json();
    return { res, endpoint: doc.service[0].serviceEndpoint as string };
  }

  test("without SIGILUM_PUBLIC_URL the endpoint follows Host, so the public response says Vary: Host", async () => {
    const t = await startTestServer();
    try {
      const s = await withApprovedService(t);
      const { res, endpoint } = await endpointFor(t, s, { host: "registry.example:8443" });
      expect(endpoint).toBe(
        `http://registry.example:8443/v1/verify?namespace=${s.namespace}&service=${s.slug}`,
      );
      expect(res.headers.get("cache-control")).toBe("public, max-age=60");
      expect(res.headers.get("vary")).toBe("Host");
      const resolution = await fetch(`${t.url}/1.0/identifiers/did:sigilum:${s.namespace}`);
      expect(resolution.headers.get("vary")).toBe("Host");
    } finally {
      await t.close();
    }
  });

  test("behind a trusted proxy the forwarded host and scheme are part of the cache key", async () => {
    const t = await startTestServer({ env: { SIGILUM_TRUST_PROXY: "true" } });
    try {
      const s = await withApprovedService(t);
      const { res, endpoint } = await endpointFor(t, s, {
        "x-forwarded-host": "registry.example",
        "x-forwarded-proto": "https",
      });
      expect(endpoint.startsWith("https://registry.example/v1/verify?")).toBe(true);
      expect(res.headers.get("vary")).toBe("Host, X-Forwarded-Host, X-Forwarded-Proto");
    } finally {
      await t.close();
    }
  });

  test("with SIGILUM_PUBLIC_URL the endpoint is the public URL whatever the Host, and nothing varies", async () => {
    const publicUrl = "https://registry.example.com";
    const t = await startTestServer({
      env: { SIGILUM_PUBLIC_URL: publicUrl, SIGILUM_TRUST_PROXY: "true" },
    });
    try {
      const s = await withApprovedService(t, publicUrl);
      const variants: Record<string, string>[] = [
        {},
        { host: "evil.example" },
        { "x-forwarded-host": "evil.example" },
      ];
      for (const headers of variants) {
        const { res, endpoint } = await endpointFor(t, s, headers);
        expect(endpoint).toBe(`${publicUrl}/v1/verify?namespace=${s.namespace}&service=${s.slug}`);
        expect(res.headers.get("cache-control")).toBe("public, max-age=60");
        expect(res.headers.get("vary")).toBeNull();
      }
    } finally {
      await t.close();
    }
  });
});
