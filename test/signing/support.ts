/**
 * Shared fixtures for the signing tests, plus an independent signer built on node:crypto that
 * assembles the signature base by hand from the spec text (never via src/signing/base.ts).
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import type {
  GeneratedIdentity,
  SignRequestOptions,
  VerifyRequestInput,
} from "../../src/signing/index.ts";
import { generateIdentity, signRequest, verifySignedRequest } from "../../src/signing/index.ts";

export const SEED = Uint8Array.from({ length: 32 }, (_, i) => i);
export const CREATED = 1_700_000_000;
export const NOW_MS = CREATED * 1000;
export const NONCE = "123e4567-e89b-12d3-a456-426614174000";
export const URL_WITH_BODY = "https://registry.example.com/v1/claims";
export const BODY = '{"action":"approve"}';

export function fixedIdentity(namespace = "acme", seed = SEED): Promise<GeneratedIdentity> {
  return generateIdentity(namespace, NOW_MS, { seed });
}

const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export function nodePrivateKey(seed: Uint8Array) {
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
}

/** Raw 32-byte public key: the tail of node's SPKI DER. */
export function nodeRawPublicKey(seed: Uint8Array): Buffer {
  const spki = createPublicKey(nodePrivateKey(seed)).export({ format: "der", type: "spki" });
  return spki.subarray(spki.length - 32);
}

export function nodeSign(seed: Uint8Array, text: string): Buffer {
  return sign(null, Buffer.from(text, "utf8"), nodePrivateKey(seed));
}

export function nodeVerify(seed: Uint8Array, text: string, signature: Buffer): boolean {
  return verify(null, Buffer.from(text, "utf8"), createPublicKey(nodePrivateKey(seed)), signature);
}

export function nodeDigest(body: string | Uint8Array): string {
  return `sha-256=:${createHash("sha256").update(body).digest("base64")}:`;
}

/** §4 by hand: `"name": value` lines, then `"@signature-params": <value after sig1=>`. */
export function handBase(lines: Array<[string, string]>, params: string): string {
  return [
    ...lines.map(([name, value]) => `"${name}": ${value}`),
    `"@signature-params": ${params}`,
  ].join("\n");
}

export interface CustomSignature {
  identity: GeneratedIdentity;
  method: string;
  /** Already in the form the server will rebuild. */
  targetUri: string;
  headers: Record<string, string>;
  components: string[];
  created?: number;
  nonce?: string;
  keyId?: string;
}

/** Signs any component list over any headers: how tests build requests the SDKs never would. */
export function signCustom(spec: CustomSignature): Headers {
  const list = spec.components.map((name) => `"${name}"`).join(" ");
  const params = `(${list});created=${spec.created ?? CREATED};keyid="${spec.keyId ?? spec.identity.keyId}";alg="ed25519";nonce="${spec.nonce ?? NONCE}"`;
  const lines = spec.components.map((name): [string, string] => {
    if (name === "@method") return [name, spec.method.toLowerCase()];
    if (name === "@target-uri") return [name, spec.targetUri];
    return [name, spec.headers[name] ?? ""];
  });
  const signature = nodeSign(spec.identity.privateKeySeed, handBase(lines, params));
  return new Headers({
    ...spec.headers,
    "signature-input": `sig1=${params}`,
    signature: `sig1=:${signature.toString("base64")}:`,
  });
}

/** The identity's own covered headers, as a custom signer would send them. */
export function identityHeaders(identity: GeneratedIdentity): Record<string, string> {
  return {
    "sigilum-namespace": identity.namespace,
    "sigilum-subject": identity.namespace,
    "sigilum-agent-key": identity.publicKey,
    "sigilum-agent-cert": identity.certificate,
  };
}

export interface SignedFixture {
  method: string;
  targetUri: string;
  headers: Headers;
  body: Uint8Array;
}

/** A request signed by our signer with fixed created/nonce; POST with body unless told. */
export async function signedFixture(
  overrides: Partial<SignRequestOptions> = {},
): Promise<SignedFixture> {
  const identity = overrides.identity ?? (await fixedIdentity());
  const options: SignRequestOptions = {
    method: "POST",
    url: URL_WITH_BODY,
    body: BODY,
    created: CREATED,
    nonce: NONCE,
    ...overrides,
    identity,
  };
  const headers = new Headers(await signRequest(options));
  const body =
    typeof options.body === "string"
      ? new TextEncoder().encode(options.body)
      : (options.body ?? new Uint8Array());
  return { method: options.method, targetUri: String(options.url), headers, body };
}

export function verifyFixture(
  fixture: SignedFixture,
  extra: Partial<VerifyRequestInput> = {},
): ReturnType<typeof verifySignedRequest> {
  return verifySignedRequest({ ...fixture, now: NOW_MS, ...extra });
}
