/** §5 steps 3–9 and the order in which they run. */
import { describe, expect, test } from "bun:test";
import type {
  AgentCertificate,
  GeneratedIdentity,
  SignatureErrorCode,
  VerifyResult,
} from "../../src/signing/index.ts";
import {
  decodeCertificate,
  encodeCertificate,
  parseAgentKey,
  signCertificate,
  toDidKey,
} from "../../src/signing/index.ts";
import type { SignedFixture } from "./support.ts";
import {
  BODY,
  CREATED,
  fixedIdentity,
  identityHeaders,
  NOW_MS,
  nodeDigest,
  signCustom,
  signedFixture,
  URL_WITH_BODY,
  verifyFixture,
} from "./support.ts";

const OTHER_SEED = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);

function expectFailure(
  result: VerifyResult,
  status: 401 | 403,
  code: SignatureErrorCode,
  message?: RegExp,
) {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect({ status: result.status, code: result.code }).toEqual({ status, code });
  if (message) expect(result.message).toMatch(message);
}

/** The fixed identity with its certificate replaced by one signed over `patch`ed fields. */
async function identityWithCertificate(
  patch: Partial<AgentCertificate>,
  proofSeed?: Uint8Array,
): Promise<GeneratedIdentity> {
  const identity = await fixedIdentity();
  const { proof: _proof, ...fields } = decodeCertificate(identity.certificate)!;
  const cert = await signCertificate({ ...fields, ...patch }, proofSeed ?? identity.privateKeySeed);
  return { ...identity, certificate: encodeCertificate(cert), keyId: cert.keyId };
}

describe("step 3: freshness", () => {
  const at = async (offsetSeconds: number) =>
    verifyFixture(await signedFixture({ created: CREATED + offsetSeconds }));

  test("301 s old → SIGNATURE_EXPIRED", async () => {
    expectFailure(await at(-301), 401, "SIGNATURE_EXPIRED", /older than 300 s/);
  });

  test("31 s in the future → SIGNATURE_EXPIRED", async () => {
    expectFailure(await at(31), 401, "SIGNATURE_EXPIRED", /future/);
  });

  test.each([-299, -300, 29, 30, 0])("%i s away is accepted", async (offset) => {
    expect((await at(offset)).ok).toBe(true);
  });

  test("limits are configurable", async () => {
    const fixture = await signedFixture({ created: CREATED - 100 });
    expectFailure(await verifyFixture(fixture, { maxAgeSeconds: 60 }), 401, "SIGNATURE_EXPIRED");
    const future = await signedFixture({ created: CREATED + 10 });
    expectFailure(await verifyFixture(future, { maxSkewSeconds: 5 }), 401, "SIGNATURE_EXPIRED");
  });
});

describe("step 4: the certificate", () => {
  test("bad proof (signed by another key) → SIGNATURE_INVALID", async () => {
    const identity = await identityWithCertificate({}, OTHER_SEED);
    const result = await verifyFixture(await signedFixture({ identity }));
    expectFailure(result, 401, "SIGNATURE_INVALID", /proof does not verify/);
  });

  test("wrong did → SIGNATURE_INVALID", async () => {
    const identity = await identityWithCertificate({
      did: "did:sigilum:other",
      keyId: "did:sigilum:other#ed25519-56475aa75463474c",
    });
    const result = await verifyFixture(await signedFixture({ identity }));
    expectFailure(result, 401, "SIGNATURE_INVALID", /did must be did:sigilum:acme/);
  });

  test("keyId not starting with did# → SIGNATURE_INVALID", async () => {
    const identity = await identityWithCertificate({ keyId: "did:sigilum:acmeX#ed25519-1" });
    const result = await verifyFixture(await signedFixture({ identity }));
    expectFailure(result, 401, "SIGNATURE_INVALID", /keyId must start/);
  });

  test("expired expiresAt → SIGNATURE_INVALID; a future one is fine", async () => {
    const expired = await identityWithCertificate({ expiresAt: "2023-11-14T22:13:19.999Z" });
    const result = await verifyFixture(await signedFixture({ identity: expired }));
    expectFailure(result, 401, "SIGNATURE_INVALID", /expired/);
    const valid = await identityWithCertificate({ expiresAt: "2030-01-01T00:00:00.000Z" });
    expect((await verifyFixture(await signedFixture({ identity: valid }))).ok).toBe(true);
  });

  test.each([
    ["not base64url", "!!!"],
    ["not JSON", Buffer.from("hello").toString("base64url")],
    ["JSON without fields", Buffer.from('{"version":1}').toString("base64url")],
    ["version 2", Buffer.from('{"version":2}').toString("base64url")],
  ])("undecodable certificate (%s) → SIGNATURE_INVALID", async (_name, certificate) => {
    const identity = { ...(await fixedIdentity()), certificate };
    const result = await verifyFixture(await signedFixture({ identity }));
    expectFailure(result, 401, "SIGNATURE_INVALID", /undecodable/);
  });

  test("a padded base64url certificate header is accepted", async () => {
    const identity = await fixedIdentity();
    const padding = "=".repeat((4 - (identity.certificate.length % 4)) % 4);
    expect(padding.length).toBeGreaterThan(0);
    const padded = { ...identity, certificate: identity.certificate + padding };
    expect((await verifyFixture(await signedFixture({ identity: padded }))).ok).toBe(true);
  });
});

describe("step 5: certificate ↔ headers", () => {
  test("certificate publicKey ≠ sigilum-agent-key → SIGNATURE_INVALID", async () => {
    const other = await fixedIdentity("acme", OTHER_SEED);
    const identity = { ...(await fixedIdentity()), publicKey: other.publicKey };
    const result = await verifyFixture(await signedFixture({ identity }));
    expectFailure(result, 401, "SIGNATURE_INVALID", /publicKey differs/);
  });

  test("certificate namespace ≠ sigilum-namespace → SIGNATURE_INVALID", async () => {
    const identity = { ...(await fixedIdentity()), namespace: "other" };
    const result = await verifyFixture(await signedFixture({ identity }));
    expectFailure(result, 401, "SIGNATURE_INVALID", /namespace differs/);
  });

  test("certificate keyId ≠ keyid parameter → SIGNATURE_INVALID", async () => {
    const identity = {
      ...(await fixedIdentity()),
      keyId: "did:sigilum:acme#ed25519-0000000000000000",
    };
    const result = await verifyFixture(await signedFixture({ identity }));
    expectFailure(result, 401, "SIGNATURE_INVALID", /keyId differs/);
  });
});

describe("step 6: route binding", () => {
  test("expectedNamespace mismatch → 403 SIGNATURE_NAMESPACE_MISMATCH", async () => {
    const result = await verifyFixture(await signedFixture(), { expectedNamespace: "other" });
    expectFailure(result, 403, "SIGNATURE_NAMESPACE_MISMATCH");
  });

  test("expectedKey mismatch → 403 SIGNATURE_KEY_MISMATCH", async () => {
    const other = await fixedIdentity("acme", OTHER_SEED);
    const result = await verifyFixture(await signedFixture(), { expectedKey: other.publicKey });
    expectFailure(result, 403, "SIGNATURE_KEY_MISMATCH");
  });

  test("matching bindings pass, and expectedKey may be given as did:key", async () => {
    const identity = await fixedIdentity();
    const didKey = toDidKey(parseAgentKey(identity.publicKey)!);
    const result = await verifyFixture(await signedFixture(), {
      expectedNamespace: "acme",
      expectedKey: didKey,
    });
    expect(result.ok).toBe(true);
  });
});

describe("step 7: covered components", () => {
  const BODY_LIST = [
    "@method",
    "@target-uri",
    "content-digest",
    "sigilum-namespace",
    "sigilum-subject",
    "sigilum-agent-key",
    "sigilum-agent-cert",
  ];
  const NO_BODY_LIST = BODY_LIST.filter((name) => name !== "content-digest");

  async function custom(components: string[], body: string, extra: Record<string, string> = {}) {
    const identity = await fixedIdentity();
    const headers = signCustom({
      identity,
      method: "POST",
      targetUri: URL_WITH_BODY,
      headers: { ...identityHeaders(identity), "content-digest": nodeDigest(body), ...extra },
      components,
    });
    return verifyFixture({
      method: "POST",
      targetUri: URL_WITH_BODY,
      headers,
      body: new TextEncoder().encode(body),
    });
  }

  test("the custom signer itself produces acceptable requests", async () => {
    expect((await custom(BODY_LIST, BODY)).ok).toBe(true);
    expect((await custom(NO_BODY_LIST, "")).ok).toBe(true);
  });

  test("content-digest not covered although a body was received", async () => {
    expectFailure(await custom(NO_BODY_LIST, BODY), 401, "SIGNATURE_COMPONENTS_INVALID");
  });

  test("content-digest covered although the body received is empty", async () => {
    expectFailure(await custom(BODY_LIST, ""), 401, "SIGNATURE_COMPONENTS_INVALID");
  });

  test("wrong order", async () => {
    const swapped = [...BODY_LIST];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expectFailure(await custom(swapped, BODY), 401, "SIGNATURE_COMPONENTS_INVALID");
  });

  test("an extra or a missing component", async () => {
    expectFailure(
      await custom([...BODY_LIST, "host"], BODY, { host: "x" }),
      401,
      "SIGNATURE_COMPONENTS_INVALID",
    );
    expectFailure(await custom(BODY_LIST.slice(1), BODY), 401, "SIGNATURE_COMPONENTS_INVALID");
    expectFailure(await custom([], BODY), 401, "SIGNATURE_COMPONENTS_INVALID");
  });

  test("sigilum-agent-id present but not covered", async () => {
    const fixture = await signedFixture();
    fixture.headers.set("sigilum-agent-id", "agent-7");
    expectFailure(await verifyFixture(fixture), 401, "SIGNATURE_COMPONENTS_INVALID");
  });

  test("sigilum-agent-id covered but absent", async () => {
    const fixture = await signedFixture({ agentId: "agent-7" });
    fixture.headers.delete("sigilum-agent-id");
    expectFailure(await verifyFixture(fixture), 401, "SIGNATURE_COMPONENTS_INVALID");
  });
});

describe("step 8: content digest", () => {
  test("tampered body → SIGNATURE_DIGEST_MISMATCH", async () => {
    const fixture = await signedFixture();
    const body = new TextEncoder().encode(BODY.replace("approve", "rejectx"));
    expectFailure(await verifyFixture({ ...fixture, body }), 401, "SIGNATURE_DIGEST_MISMATCH");
  });

  test("content-digest header missing with a body → SIGNATURE_DIGEST_MISMATCH", async () => {
    const fixture = await signedFixture();
    fixture.headers.delete("content-digest");
    expectFailure(await verifyFixture(fixture), 401, "SIGNATURE_DIGEST_MISMATCH");
  });

  test("digest compared as exact strings (sha-256 spelled upper-case fails)", async () => {
    const fixture = await signedFixture();
    fixture.headers.set(
      "content-digest",
      fixture.headers.get("content-digest")!.replace("sha-256", "SHA-256"),
    );
    expectFailure(await verifyFixture(fixture), 401, "SIGNATURE_DIGEST_MISMATCH");
  });
});

describe("step 9: the signature", () => {
  test("tampered covered header → SIGNATURE_INVALID", async () => {
    const fixture = await signedFixture();
    fixture.headers.set("sigilum-subject", "mallory");
    expectFailure(await verifyFixture(fixture), 401, "SIGNATURE_INVALID", /does not verify/);
  });

  test("tampered agent id → SIGNATURE_INVALID", async () => {
    const fixture = await signedFixture({ agentId: "agent-7" });
    fixture.headers.set("sigilum-agent-id", "agent-8");
    expectFailure(await verifyFixture(fixture), 401, "SIGNATURE_INVALID", /does not verify/);
  });

  test("tampered method → SIGNATURE_INVALID", async () => {
    const fixture = await signedFixture();
    expectFailure(await verifyFixture({ ...fixture, method: "PUT" }), 401, "SIGNATURE_INVALID");
  });

  test("method case does not matter (it is lower-cased)", async () => {
    const fixture = await signedFixture();
    expect((await verifyFixture({ ...fixture, method: "post" })).ok).toBe(true);
  });

  test.each([
    "https://registry.example.com/v1/claims/other",
    "https://registry.example.com/v1/claims?x=1",
    "http://registry.example.com/v1/claims",
    "https://registry.example.com:8443/v1/claims",
    "not a url",
  ])("tampered URL %s → SIGNATURE_INVALID", async (targetUri) => {
    const fixture = await signedFixture();
    expectFailure(await verifyFixture({ ...fixture, targetUri }), 401, "SIGNATURE_INVALID");
  });

  test("whitespace around header values is ignored", async () => {
    const fixture = await signedFixture();
    const headers = new Headers();
    fixture.headers.forEach((value, name) => {
      headers.set(name, ` ${value}\t`);
    });
    expect((await verifyFixture({ ...fixture, headers })).ok).toBe(true);
  });
});

describe("checks run in §5 order", () => {
  test("malformed signature-input beats expiry (2 before 3)", async () => {
    const fixture = await signedFixture({ created: CREATED - 1000 });
    fixture.headers.set("signature", "sig1=::");
    expectFailure(await verifyFixture(fixture), 401, "SIGNATURE_INVALID");
  });

  test("expired with a bad certificate reports SIGNATURE_EXPIRED (3 before 4)", async () => {
    const identity = { ...(await fixedIdentity()), certificate: "!!!" };
    const fixture = await signedFixture({ identity, created: CREATED - 301 });
    expectFailure(await verifyFixture(fixture), 401, "SIGNATURE_EXPIRED");
  });

  test("bad certificate beats a route mismatch (4 before 6)", async () => {
    const identity = await identityWithCertificate({}, OTHER_SEED);
    const result = await verifyFixture(await signedFixture({ identity }), {
      expectedNamespace: "x",
    });
    expectFailure(result, 401, "SIGNATURE_INVALID");
  });

  test("namespace mismatch beats key mismatch and bad components (6 before 7)", async () => {
    const fixture = await signedFixture();
    fixture.headers.set("sigilum-agent-id", "uncovered");
    const result = await verifyFixture(fixture, { expectedNamespace: "x", expectedKey: "y" });
    expectFailure(result, 403, "SIGNATURE_NAMESPACE_MISMATCH");
    expectFailure(
      await verifyFixture(fixture, { expectedKey: "y" }),
      403,
      "SIGNATURE_KEY_MISMATCH",
    );
  });

  test("bad components beat a digest mismatch (7 before 8)", async () => {
    const fixture = await signedFixture();
    fixture.headers.set("sigilum-agent-id", "uncovered");
    const body = new TextEncoder().encode("tampered");
    expectFailure(await verifyFixture({ ...fixture, body }), 401, "SIGNATURE_COMPONENTS_INVALID");
  });

  test("digest mismatch beats a bad signature (8 before 9)", async () => {
    const fixture = await signedFixture();
    fixture.headers.set("sigilum-subject", "mallory");
    const body = new TextEncoder().encode("tampered");
    expectFailure(await verifyFixture({ ...fixture, body }), 401, "SIGNATURE_DIGEST_MISMATCH");
  });

  test("the verified identity is returned on success", async () => {
    const fixture: SignedFixture = await signedFixture({ subject: "user-42", agentId: "agent-7" });
    const result = await verifyFixture(fixture);
    expect(result.ok && result.identity).toMatchObject({
      namespace: "acme",
      subject: "user-42",
      agentId: "agent-7",
      created: CREATED,
    });
    expect(NOW_MS).toBe(CREATED * 1000);
  });
});
