/** signRequest / generateIdentity behaviour beyond the golden vectors. */
import { describe, expect, test } from "bun:test";
import { generateIdentity, signRequest, verifySignedRequest } from "../../src/signing/index.ts";
import { CREATED, fixedIdentity, NONCE, URL_WITH_BODY } from "./support.ts";

describe("signRequest", () => {
  test("defaults (now, random UUID nonce) produce a request that verifies now", async () => {
    const identity = await generateIdentity("acme", Date.now());
    const headers = await signRequest({ method: "DELETE", url: URL_WITH_BODY, identity });
    expect(headers["signature-input"]).toMatch(/;nonce="[0-9a-f-]{36}"$/);
    const result = await verifySignedRequest({
      method: "DELETE",
      targetUri: URL_WITH_BODY,
      headers: new Headers(headers),
      body: new Uint8Array(),
      now: Date.now(),
    });
    expect(result.ok).toBe(true);
  });

  test("keeps the caller's headers, replaces any signing header they carried", async () => {
    const headers = await signRequest({
      method: "GET",
      url: URL_WITH_BODY,
      identity: await fixedIdentity(),
      headers: { Accept: "application/json", Signature: "forged", "Content-Digest": "stale" },
      created: CREATED,
      nonce: NONCE,
    });
    expect(headers.accept).toBe("application/json");
    expect(headers.signature).toStartWith("sig1=:");
    expect(headers["content-digest"]).toBeUndefined();
    expect(Object.keys(headers).every((name) => name === name.toLowerCase())).toBe(true);
  });

  test("subject: option, then a sigilum-subject header, then the namespace", async () => {
    const identity = await fixedIdentity();
    const sign = (extra: { subject?: string; headers?: Record<string, string> }) =>
      signRequest({ method: "GET", url: URL_WITH_BODY, identity, ...extra });
    expect((await sign({}))["sigilum-subject"]).toBe("acme");
    expect((await sign({ headers: { "Sigilum-Subject": "h" } }))["sigilum-subject"]).toBe("h");
    expect(
      (await sign({ subject: "o", headers: { "sigilum-subject": "h" } }))["sigilum-subject"],
    ).toBe("o");
    await expect(sign({ subject: "  " })).rejects.toThrow(/subject/);
  });

  test("an empty body (string or bytes) is 'no body': no content-digest", async () => {
    const identity = await fixedIdentity();
    for (const body of ["", new Uint8Array(), null]) {
      const headers = await signRequest({ method: "POST", url: URL_WITH_BODY, identity, body });
      expect(headers["content-digest"]).toBeUndefined();
      expect(headers["signature-input"]).not.toContain("content-digest");
    }
  });

  test.each([
    ["created 0", { created: 0 }],
    ["created fractional", { created: 1.5 }],
    ["nonce with a quote", { nonce: 'a"b' }],
    ["empty nonce", { nonce: "" }],
    ["nonce with a newline", { nonce: "a\nb" }],
  ])("refuses %s", async (_name, extra) => {
    const identity = await fixedIdentity();
    await expect(
      signRequest({ method: "GET", url: URL_WITH_BODY, identity, ...extra }),
    ).rejects.toThrow();
  });
});

describe("generateIdentity", () => {
  test("random seeds give distinct identities with matching ids", async () => {
    const [a, b] = await Promise.all([generateIdentity("acme", 0), generateIdentity("acme", 0)]);
    expect(a.publicKey).not.toBe(b.publicKey);
    expect(a.privateKeySeed.length).toBe(32);
    expect(a.did).toBe("did:sigilum:acme");
    expect(a.keyId).toStartWith("did:sigilum:acme#ed25519-");
    expect(a.issuedAt).toBe("1970-01-01T00:00:00.000Z");
  });

  test.each(["Acme", "a", "-acme", "acme_1", "a/b"])("refuses namespace %p", async (namespace) => {
    await expect(generateIdentity(namespace, 0)).rejects.toThrow(/invalid namespace/);
  });
});
