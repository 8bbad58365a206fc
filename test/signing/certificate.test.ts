/** The agent certificate (§3): encoding, decoding and verification on its own. */
import { describe, expect, test } from "bun:test";
import type { AgentCertificate } from "../../src/signing/index.ts";
import {
  certificateProofPayload,
  createCertificate,
  decodeCertificate,
  encodeCertificate,
  verifyCertificate,
  verifyCertificateHeader,
} from "../../src/signing/index.ts";
import { NOW_MS, SEED } from "./support.ts";

/** A certificate written by the official SDK (sdks/test-vectors/identity-record-v1.json). */
const SDK_CERTIFICATE = {
  version: 1,
  namespace: "fixture-alice",
  did: "did:sigilum:fixture-alice",
  keyId: "did:sigilum:fixture-alice#ed25519-99fb00dc16ee555a",
  publicKey: "ed25519:J07dj/co4diCmQYTTQGq4adhnMKYejHazCYUQ7eBh0k=",
  issuedAt: "2026-02-20T18:04:26Z",
  expiresAt: null,
  proof: {
    alg: "ed25519",
    sig: "vGp-WLmSr0BWNci2lBhcJORg39ot-3Uu1aaVG2wGEKLItK_964hFaRrVd7DHf_2e3ykGpIacoM9Q5gs_tPy6Dw",
  },
  issuedBy: "sigilum.local-fixture",
} as const;

async function ourCertificate(expiresAt: string | null = null): Promise<AgentCertificate> {
  return createCertificate({
    namespace: "acme",
    seed: SEED,
    issuedAt: "2023-11-14T22:13:20.000Z",
    expiresAt,
  });
}

describe("certificates", () => {
  test("the SDK's certificate verifies, extra fields ignored but kept", async () => {
    const decoded = decodeCertificate(
      Buffer.from(JSON.stringify(SDK_CERTIFICATE)).toString("base64url"),
    );
    expect(decoded).not.toBeNull();
    expect(await verifyCertificate(decoded!, NOW_MS)).toEqual({ ok: true });
    expect((decoded as unknown as Record<string, unknown>).issuedBy).toBe("sigilum.local-fixture");
  });

  test("proof payload is the seven lines, no trailing newline", async () => {
    const cert = await ourCertificate("2030-01-01T00:00:00.000Z");
    expect(certificateProofPayload(cert)).toBe(
      [
        "sigilum-certificate-v1",
        "namespace:acme",
        "did:did:sigilum:acme",
        "key-id:did:sigilum:acme#ed25519-56475aa75463474c",
        "public-key:ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
        "issued-at:2023-11-14T22:13:20.000Z",
        "expires-at:2030-01-01T00:00:00.000Z",
      ].join("\n"),
    );
  });

  test("encoding is unpadded base64url of the JSON; padded and unpadded both decode", async () => {
    const cert = await ourCertificate();
    const header = encodeCertificate(cert);
    expect(header).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(header, "base64url").toString("utf8"))).toEqual(cert);
    const padded = header + "=".repeat((4 - (header.length % 4)) % 4);
    expect(decodeCertificate(padded)).toEqual(cert);
    expect(decodeCertificate(`${padded}=`)).toBeNull();
    expect(decodeCertificate(`+${header.slice(1)}`)).toBeNull();
    expect(decodeCertificate(`/${header.slice(1)}`)).toBeNull();
  });

  test.each([
    ["missing proof", { proof: undefined }],
    ["proof alg rsa", { proof: { alg: "rsa", sig: "x" } }],
    ["numeric namespace", { namespace: 7 }],
    ["empty keyId", { keyId: "" }],
    ["newline in issuedAt", { issuedAt: "2023\nexpires-at:" }],
    ["numeric expiresAt", { expiresAt: 5 }],
  ])("decode rejects %s", async (_name, patch) => {
    const json = JSON.stringify({ ...(await ourCertificate()), ...patch });
    expect(decodeCertificate(Buffer.from(json).toString("base64url"))).toBeNull();
  });

  test("absent or empty expiresAt reads as null (same proof line)", async () => {
    const { expiresAt: _unused, ...withoutExpiry } = await ourCertificate();
    for (const variant of [withoutExpiry, { ...withoutExpiry, expiresAt: "" }]) {
      const decoded = decodeCertificate(Buffer.from(JSON.stringify(variant)).toString("base64url"));
      expect(decoded?.expiresAt).toBeNull();
      expect(await verifyCertificate(decoded!, NOW_MS)).toEqual({ ok: true });
    }
  });

  test("verification failures name the reason", async () => {
    const cert = await ourCertificate();
    const check = async (patch: Partial<AgentCertificate>, now = NOW_MS) =>
      verifyCertificate({ ...cert, ...patch }, now);
    expect(await check({ did: "did:sigilum:other" })).toMatchObject({
      reason: expect.stringMatching(/did must be/),
    });
    expect(await check({ keyId: "did:sigilum:acme-x" })).toMatchObject({
      reason: expect.stringMatching(/keyId must start/),
    });
    expect(await check({ expiresAt: "not a date" })).toMatchObject({
      reason: expect.stringMatching(/not a date/),
    });
    expect(await check({ publicKey: "ed25519:AAAA" })).toMatchObject({
      reason: expect.stringMatching(/publicKey/),
    });
    expect(await check({ issuedAt: "2024-01-01T00:00:00.000Z" })).toMatchObject({
      reason: expect.stringMatching(/proof/),
    });
    const expiring = await ourCertificate("2023-11-14T22:13:20.000Z");
    expect(await verifyCertificate(expiring, NOW_MS)).toMatchObject({
      reason: expect.stringMatching(/expired/),
    });
    expect(await verifyCertificate(expiring, NOW_MS - 1)).toEqual({ ok: true });
  });

  test("a header that verified is remembered, yet still expires on time", async () => {
    const header = encodeCertificate(await ourCertificate("2023-11-14T22:13:20.000Z"));
    expect(await verifyCertificateHeader(header, NOW_MS - 1)).toMatchObject({ ok: true });
    expect(await verifyCertificateHeader(header, NOW_MS - 1)).toMatchObject({ ok: true });
    expect(await verifyCertificateHeader(header, NOW_MS)).toEqual({
      ok: false,
      reason: "certificate has expired",
    });
  });

  test("a remembered header vouches for no other: a changed proof or field is checked afresh", async () => {
    const cert = await ourCertificate();
    expect(await verifyCertificateHeader(encodeCertificate(cert), NOW_MS)).toMatchObject({
      ok: true,
    });
    const sig = cert.proof.sig;
    const otherSig = `${sig.slice(0, -2)}${sig.endsWith("AA") ? "BA" : "AA"}`;
    const forged = [
      { ...cert, proof: { alg: "ed25519" as const, sig: otherSig } },
      { ...cert, issuedAt: "2024-01-01T00:00:00.000Z" },
    ];
    for (const changed of forged)
      expect(await verifyCertificateHeader(encodeCertificate(changed), NOW_MS)).toMatchObject({
        ok: false,
      });
    expect(await verifyCertificateHeader("not base64url!", NOW_MS)).toEqual({
      ok: false,
      reason: "agent certificate is undecodable",
    });
  });
});
