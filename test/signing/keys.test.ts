/** Key encodings (§6, http-api §1.3) and base58btc. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  base58Decode,
  base58Encode,
  keyFingerprint,
  keyIdFor,
  normalizeAgentKey,
  parseAgentKey,
  parseCanonicalKey,
  parseMultibaseKey,
  toCanonicalKey,
  toDidKey,
  toMultibaseKey,
} from "../../src/signing/index.ts";

const GOLDEN_RAW = Buffer.from(
  "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
  "hex",
);
const GOLDEN = {
  canonical: "ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=",
  didKey: "did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd",
  multibase: "z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd",
};
const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

/** Independent base58btc reference via BigInt. */
function referenceBase58(bytes: Uint8Array): string {
  const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  let value = BigInt(`0x0${Buffer.from(bytes).toString("hex")}`);
  let out = "";
  while (value > 0n) {
    out = alphabet[Number(value % 58n)] + out;
    value /= 58n;
  }
  let zeros = 0;
  while (bytes[zeros] === 0) zeros++;
  return "1".repeat(zeros) + out;
}

describe("golden key", () => {
  test("all three forms of the seed-0..31 key", () => {
    expect(toCanonicalKey(GOLDEN_RAW)).toBe(GOLDEN.canonical);
    expect(toDidKey(GOLDEN_RAW)).toBe(GOLDEN.didKey);
    expect(toMultibaseKey(GOLDEN_RAW)).toBe(GOLDEN.multibase);
    for (const form of Object.values(GOLDEN)) {
      expect(Buffer.from(parseAgentKey(form)!)).toEqual(GOLDEN_RAW);
      expect(normalizeAgentKey(form)).toBe(GOLDEN.canonical);
    }
  });

  test("fingerprint and key id", () => {
    expect(keyFingerprint(GOLDEN_RAW)).toBe("56475aa75463474c");
    expect(keyIdFor("acme", GOLDEN_RAW)).toBe("did:sigilum:acme#ed25519-56475aa75463474c");
  });

  test("fingerprint agrees with the SDK identity fixture", () => {
    const raw = parseCanonicalKey("ed25519:J07dj/co4diCmQYTTQGq4adhnMKYejHazCYUQ7eBh0k=")!;
    expect(keyFingerprint(raw)).toBe("99fb00dc16ee555a");
  });
});

describe("rejections", () => {
  const b64 = (length: number) => Buffer.alloc(length, 9).toString("base64");
  const multibase = (bytes: number[]) => `z${base58Encode(Uint8Array.from(bytes))}`;
  const body = Array.from({ length: 32 }, () => 9);

  test.each([
    ["31 bytes", `ed25519:${b64(31)}`],
    ["33 bytes", `ed25519:${b64(33)}`],
    ["unpadded", GOLDEN.canonical.replace(/=$/, "")],
    ["non-canonical trailing bits", GOLDEN.canonical.replace("g=", "h=")],
    ["base64url alphabet", `ed25519:${Buffer.alloc(32, 0xfb).toString("base64url")}=`],
    ["upper-case prefix", GOLDEN.canonical.replace("ed25519", "ED25519")],
    ["no prefix", GOLDEN.canonical.slice("ed25519:".length)],
    ["inner whitespace", GOLDEN.canonical.replace("/", " /")],
    ["surrounding whitespace", ` ${GOLDEN.canonical}`],
    ["x25519 multicodec", multibase([0xec, 0x01, ...body])],
    ["secp256k1 multicodec", multibase([0xe7, 0x01, ...body])],
    ["one-byte codec", multibase([0xed, ...body])],
    ["31-byte multibase key", multibase([0xed, 0x01, ...body.slice(1)])],
    ["33-byte multibase key", multibase([0xed, 0x01, ...body, 9])],
    ["base58 '0'", `${GOLDEN.multibase.slice(0, -1)}0`],
    ["base58 'O'", `${GOLDEN.multibase.slice(0, -1)}O`],
    ["base58 'I'", `${GOLDEN.multibase.slice(0, -1)}I`],
    ["base58 'l'", `${GOLDEN.multibase.slice(0, -1)}l`],
    ["missing z", GOLDEN.multibase.slice(1)],
    ["base64 multibase 'm'", `m${GOLDEN.multibase.slice(1)}`],
    ["did:key without z", `did:key:${GOLDEN.multibase.slice(1)}`],
    ["did:key with fragment", `${GOLDEN.didKey}#${GOLDEN.multibase}`],
    ["other DID method", `did:web:${GOLDEN.multibase}`],
    ["empty", ""],
  ])("%s → null", (_name, text) => {
    expect(parseAgentKey(text)).toBeNull();
    expect(normalizeAgentKey(text)).toBeNull();
  });

  test("encoders refuse keys that are not 32 bytes", () => {
    expect(() => toCanonicalKey(new Uint8Array(31))).toThrow();
    expect(() => toDidKey(new Uint8Array(33))).toThrow();
    expect(() => keyFingerprint(new Uint8Array(0))).toThrow();
  });
});

describe("properties", () => {
  test("every form round-trips for random 32-byte keys", () => {
    fc.assert(
      fc.property(key32, (raw) => {
        const canonical = toCanonicalKey(raw);
        for (const form of [canonical, toDidKey(raw), toMultibaseKey(raw)]) {
          expect(parseAgentKey(form)).toEqual(raw);
          expect(normalizeAgentKey(form)).toBe(canonical);
        }
        expect(toMultibaseKey(raw).startsWith("z6Mk")).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test("key parsers never throw on arbitrary text", () => {
    const prefixed = fc.oneof(
      fc.string(),
      fc.string().map((s) => `ed25519:${s}`),
      fc.string().map((s) => `did:key:z${s}`),
      fc.string().map((s) => `z6Mk${s}`),
      fc.base64String().map((s) => `ed25519:${s}`),
    );
    fc.assert(
      fc.property(prefixed, (text) => {
        const parsed = parseAgentKey(text);
        expect(parsed === null || parsed.length === 32).toBe(true);
        parseCanonicalKey(text);
        parseMultibaseKey(text);
      }),
      { numRuns: 1000 },
    );
  });

  test("base58 round-trips random bytes, leading zeros included, and matches a BigInt reference", () => {
    const withZeros = fc
      .tuple(fc.nat({ max: 6 }), fc.uint8Array({ maxLength: 64 }))
      .map(([zeros, bytes]) => Uint8Array.from([...new Array(zeros).fill(0), ...bytes]));
    fc.assert(
      fc.property(withZeros, (bytes) => {
        const encoded = base58Encode(bytes);
        expect(encoded).toBe(referenceBase58(bytes));
        expect(base58Decode(encoded)).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  test("base58Decode never throws and rejects characters outside the alphabet", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const decoded = base58Decode(text);
        const valid = /^[1-9A-HJ-NP-Za-km-z]*$/.test(text);
        expect(decoded === null).toBe(!valid);
        if (decoded) expect(base58Encode(decoded)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });
});
