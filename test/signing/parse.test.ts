/** Property-based tests for the header parsers (§1): never throw, round-trip valid inputs. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  contentDigest,
  formatSignature,
  formatSignatureInput,
  parseContentDigest,
  parseSignature,
  parseSignatureInput,
} from "../../src/signing/index.ts";
import { NONCE } from "./support.ts";

/** Printable ASCII except space, `"`, `(`, `)`, `\`. */
const componentName = fc.stringMatching(/^[!#-'*-[\]-~]{1,20}$/);
const quotedText = fc.string({ minLength: 1 }).filter((s) => !s.includes('"'));
const validParams = fc.record({
  components: fc.array(componentName, { maxLength: 10 }),
  created: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  keyId: quotedText,
  nonce: quotedText,
});
const VALID =
  'sig1=("@method" "@target-uri");created=1700000000;keyid="did:sigilum:acme#ed25519-1";alg="ed25519";nonce="n"';

/** Valid-looking inputs with one random edit, to reach deep into the parser. */
const mutated = fc
  .tuple(fc.nat({ max: VALID.length }), fc.nat({ max: 5 }), fc.string({ maxLength: 5 }))
  .map(([at, cut, insert]) => VALID.slice(0, at) + insert + VALID.slice(at + cut));

describe("parseSignatureInput", () => {
  test("never throws on arbitrary or mutated strings", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), mutated), (text) => {
        const result = parseSignatureInput(text);
        if (!result.ok) expect(typeof result.reason).toBe("string");
      }),
      { numRuns: 2000 },
    );
  });

  test("round-trips generated valid inputs", () => {
    fc.assert(
      fc.property(validParams, (params) => {
        const text = formatSignatureInput(params);
        const result = parseSignatureInput(text);
        expect(result).toEqual({
          ok: true,
          value: { ...params, alg: "ed25519", params: text.slice("sig1=".length) },
        });
      }),
      { numRuns: 1000 },
    );
  });

  test("the reference example parses", () => {
    const text = `sig1=("@method" "@target-uri" "content-digest" "sigilum-namespace" "sigilum-subject" "sigilum-agent-key" "sigilum-agent-cert");created=1700000000;keyid="did:sigilum:acme#ed25519-0123456789abcdef";alg="ed25519";nonce="${NONCE}"`;
    const result = parseSignatureInput(text);
    expect(result.ok && result.value.components.length).toBe(7);
    expect(result.ok && result.value.keyId).toBe("did:sigilum:acme#ed25519-0123456789abcdef");
  });

  test.each([
    ["created beyond 2^53", VALID.replace("1700000000", "9007199254740993")],
    ["leading whitespace", ` ${VALID}`],
    ["trailing semicolon", `${VALID};`],
    ["trailing newline", `${VALID}\n`],
    ["label only", "sig1="],
  ])("rejects %s", (_name, text) => {
    expect(parseSignatureInput(text).ok).toBe(false);
  });
});

describe("parseSignature", () => {
  test("round-trips random 64-byte signatures", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (bytes) => {
        expect(parseSignature(formatSignature(bytes))).toEqual({ ok: true, value: bytes });
      }),
      { numRuns: 500 },
    );
  });

  test("rejects every other length", () => {
    const other = fc.uint8Array({ maxLength: 100 }).filter((b) => b.length !== 64);
    fc.assert(fc.property(other, (bytes) => !parseSignature(formatSignature(bytes)).ok));
  });

  test("never throws on arbitrary strings", () => {
    const near = fc.string().map((s) => `sig1=:${s}:`);
    fc.assert(
      fc.property(fc.oneof(fc.string(), near), (text) => {
        parseSignature(text);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("content-digest", () => {
  test("the SDK test vector", () => {
    expect(contentDigest(new TextEncoder().encode('{"action":"approve"}'))).toBe(
      "sha-256=:5toCTO6LRikiTvJ0Ha+F6ucUxaTs3wMsnaImDBR0NZg=:",
    );
  });

  test("digest of any body parses back to its SHA-256", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (body) => {
        const sha = new Uint8Array(new Bun.CryptoHasher("sha256").update(body).digest());
        expect(parseContentDigest(contentDigest(body))).toEqual(sha);
      }),
      { numRuns: 300 },
    );
  });

  test("never throws; only sha-256=:<b64 of 32 bytes>: parses", () => {
    const near = fc.string().map((s) => `sha-256=:${s}:`);
    fc.assert(
      fc.property(fc.oneof(fc.string(), near), (text) => {
        const parsed = parseContentDigest(text);
        if (parsed) expect(parsed.length).toBe(32);
      }),
      { numRuns: 1000 },
    );
    const b64 = Buffer.alloc(32, 1).toString("base64");
    expect(parseContentDigest(`sha-512=:${b64}:`)).toBeNull();
    expect(parseContentDigest(`sha-256=${b64}`)).toBeNull();
    expect(parseContentDigest(`sha-256=:${Buffer.alloc(31).toString("base64")}:`)).toBeNull();
  });
});
