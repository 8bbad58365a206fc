/** Golden vectors: fixed seed 0..31, created 1700000000, fixed nonce → identical bytes forever. */
import { describe, expect, test } from "bun:test";
import { decodeCertificate, signRequest, verifySignedRequest } from "../../src/signing/index.ts";
import {
  BODY,
  CREATED,
  fixedIdentity,
  handBase,
  NONCE,
  NOW_MS,
  nodeDigest,
  nodeRawPublicKey,
  nodeSign,
  nodeVerify,
  SEED,
  URL_WITH_BODY,
} from "./support.ts";

const PUBLIC_KEY = "ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=";
const KEY_ID = "did:sigilum:acme#ed25519-56475aa75463474c";
const CERTIFICATE =
  "eyJ2ZXJzaW9uIjoxLCJuYW1lc3BhY2UiOiJhY21lIiwiZGlkIjoiZGlkOnNpZ2lsdW06YWNtZSIsImtleUlkIjoiZGlkOnNpZ2lsdW06YWNtZSNlZDI1NTE5LTU2NDc1YWE3NTQ2MzQ3NGMiLCJwdWJsaWNLZXkiOiJlZDI1NTE5OkE2RUh2L1BPRUw0ZGNOMFk1MHZBbVdmazFqQ2JwUTFmSGR5R1pCSlZNYmc9IiwiaXNzdWVkQXQiOiIyMDIzLTExLTE0VDIyOjEzOjIwLjAwMFoiLCJleHBpcmVzQXQiOm51bGwsInByb29mIjp7ImFsZyI6ImVkMjU1MTkiLCJzaWciOiJkWXhqaEQ0Zm0xOHdQdDM4bFMySHMwZ09GUVU2cWJpUF9SV2dTLTdfUURyMW13MlJkTjJzMXpNTXNsUm13UThqVlhJNE5FX1RIaHNNWVRaSHozb09BUSJ9fQ";
const CERT_PROOF =
  "dYxjhD4fm18wPt38lS2Hs0gOFQU6qbiP_RWgS-7_QDr1mw2RdN2s1zMMslRmwQ8jVXI4NE_THhsMYTZHz3oOAQ";
/** Also the SDKs' own test vector for this body (sdks/test-vectors/http-signatures-rfc9421.json). */
const DIGEST = "sha-256=:5toCTO6LRikiTvJ0Ha+F6ucUxaTs3wMsnaImDBR0NZg=:";

const COMMON = {
  "sigilum-namespace": "acme",
  "sigilum-subject": "acme",
  "sigilum-agent-key": PUBLIC_KEY,
  "sigilum-agent-cert": CERTIFICATE,
};

const GOLDEN = {
  body: {
    method: "POST",
    url: URL_WITH_BODY,
    targetUri: "https://registry.example.com/v1/claims",
    body: BODY,
    agentId: undefined,
    headers: {
      "content-digest": DIGEST,
      ...COMMON,
      "signature-input": `sig1=("@method" "@target-uri" "content-digest" "sigilum-namespace" "sigilum-subject" "sigilum-agent-key" "sigilum-agent-cert");created=1700000000;keyid="${KEY_ID}";alg="ed25519";nonce="${NONCE}"`,
      signature:
        "sig1=:sDJOHAngSagG6k42XE0BVNwc+zQFXVzDLT+kvGHPOViyZ+lDJkU8l/+fI8W1tM2Nmhu4X/5vvXSPSHYf521xDw==:",
    },
  },
  noBody: {
    method: "GET",
    url: "https://Registry.Example.com:443/v1/namespaces/acme/claims?status=approved&a=1#fragment",
    targetUri: "https://registry.example.com/v1/namespaces/acme/claims?status=approved&a=1",
    body: undefined,
    agentId: undefined,
    headers: {
      ...COMMON,
      "signature-input": `sig1=("@method" "@target-uri" "sigilum-namespace" "sigilum-subject" "sigilum-agent-key" "sigilum-agent-cert");created=1700000000;keyid="${KEY_ID}";alg="ed25519";nonce="${NONCE}"`,
      signature:
        "sig1=:E4cDZLPHl4qPEH8AQTee/hLfPCHQelTpkS8A84IOUupAWvbZEtS7KXFX3TvxDmOZmU7OzNSFCC0Hp4x7/4axCQ==:",
    },
  },
  agentId: {
    method: "POST",
    url: URL_WITH_BODY,
    targetUri: "https://registry.example.com/v1/claims",
    body: BODY,
    agentId: "agent-7",
    headers: {
      "content-digest": DIGEST,
      "sigilum-namespace": "acme",
      "sigilum-subject": "acme",
      "sigilum-agent-id": "agent-7",
      "sigilum-agent-key": PUBLIC_KEY,
      "sigilum-agent-cert": CERTIFICATE,
      "signature-input": `sig1=("@method" "@target-uri" "content-digest" "sigilum-namespace" "sigilum-subject" "sigilum-agent-id" "sigilum-agent-key" "sigilum-agent-cert");created=1700000000;keyid="${KEY_ID}";alg="ed25519";nonce="${NONCE}"`,
      signature:
        "sig1=:RGOvdYSxJ+NgQrpbi0FslWo4BG/Dgf8b+2PQBviuyD13B4DJo+P8nXWBRZowAk2RJc3c7DGqM3cBSMLxIqEvCQ==:",
    },
  },
} as const;

describe("golden identity", () => {
  test("seed 0..31 gives the same key, key id and certificate every time", async () => {
    const identity = await fixedIdentity();
    expect(identity.publicKey).toBe(PUBLIC_KEY);
    expect(identity.keyId).toBe(KEY_ID);
    expect(identity.certificate).toBe(CERTIFICATE);
    expect(decodeCertificate(CERTIFICATE)?.proof.sig).toBe(CERT_PROOF);
  });

  test("node:crypto derives the same public key and the same certificate proof", async () => {
    expect(`ed25519:${nodeRawPublicKey(SEED).toString("base64")}`).toBe(PUBLIC_KEY);
    const payload = [
      "sigilum-certificate-v1",
      "namespace:acme",
      "did:did:sigilum:acme",
      `key-id:${KEY_ID}`,
      `public-key:${PUBLIC_KEY}`,
      "issued-at:2023-11-14T22:13:20.000Z",
      "expires-at:",
    ].join("\n");
    expect(nodeSign(SEED, payload).toString("base64url")).toBe(CERT_PROOF);
  });
});

describe.each(Object.entries(GOLDEN))("golden request: %s", (_name, golden) => {
  const sign = async () =>
    signRequest({
      method: golden.method,
      url: golden.url,
      body: golden.body,
      agentId: golden.agentId,
      identity: await fixedIdentity(),
      created: CREATED,
      nonce: NONCE,
    });

  test("headers are byte-for-byte the hard-coded values", async () => {
    const first = await sign();
    expect(first).toEqual(golden.headers);
    expect(await sign()).toEqual(first);
  });

  test("node:crypto over a hand-built base reproduces and accepts the signature", async () => {
    const headers = golden.headers as Record<string, string>;
    const lines: Array<[string, string]> = [
      ["@method", golden.method.toLowerCase()],
      ["@target-uri", golden.targetUri],
    ];
    if (golden.body) lines.push(["content-digest", nodeDigest(golden.body)]);
    lines.push(["sigilum-namespace", "acme"], ["sigilum-subject", "acme"]);
    if (golden.agentId) lines.push(["sigilum-agent-id", golden.agentId]);
    lines.push(["sigilum-agent-key", PUBLIC_KEY], ["sigilum-agent-cert", CERTIFICATE]);
    const params = headers["signature-input"]!.slice("sig1=".length);
    const base = handBase(lines, params);
    const expected = nodeSign(SEED, base);
    expect(headers.signature).toBe(`sig1=:${expected.toString("base64")}:`);
    const ours = Buffer.from((await sign()).signature!.slice(6, -1), "base64");
    expect(ours.length).toBe(64);
    expect(nodeVerify(SEED, base, ours)).toBe(true);
  });

  test("our verifier accepts the hard-coded request", async () => {
    const result = await verifySignedRequest({
      method: golden.method,
      targetUri: golden.targetUri,
      headers: new Headers(golden.headers),
      body: new TextEncoder().encode(golden.body ?? ""),
      now: NOW_MS,
    });
    expect(result).toEqual({
      ok: true,
      identity: {
        namespace: "acme",
        subject: "acme",
        publicKey: PUBLIC_KEY,
        keyId: KEY_ID,
        agentId: golden.agentId ?? null,
        nonce: NONCE,
        created: CREATED,
      },
    });
  });
});
