import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { hasValidChecksum, mintSecret } from "../src/secrets.ts";

/** The table-driven CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320) the checksums were minted with. */
const TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function referenceCrc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text)) crc = TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

describe("secret checksums (CRC-32)", () => {
  test("Bun.hash.crc32 is the same CRC-32 as the hand-written one, on any text", () => {
    expect(Bun.hash.crc32("123456789")).toBe(0xcbf43926); // the CRC-32 check value
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        expect(Bun.hash.crc32(text)).toBe(referenceCrc32(text));
      }),
      { numRuns: 2_000 },
    );
    for (let i = 0; i < 200; i++) {
      const body = `sgl_sk_${crypto.randomUUID().replaceAll("-", "")}`;
      expect(Bun.hash.crc32(body)).toBe(referenceCrc32(body));
    }
  });

  test("secrets minted before the switch still validate (golden values)", () => {
    for (const secret of [
      "sgl_sk_LBiKvf19GDPwTpRPE8SlBAXEpPnBvCPI1ddKms",
      "sgl_sk_lnvMCGpISdHyLaxpJrBmNdQMI2DO1l5v0tRkHY",
      "sgl_pat_jGZUdchu1w0SOIBD3OaxmoVwuddDqtSB2mdz8L",
    ]) {
      expect(hasValidChecksum(secret)).toBe(true);
    }
    expect(hasValidChecksum("sgl_sk_LBiKvf19GDPwTpRPE8SlBAXEpPnBvCPI1ddKmt")).toBe(false);
    expect(hasValidChecksum("sgl_sk_MBiKvf19GDPwTpRPE8SlBAXEpPnBvCPI1ddKms")).toBe(false);
  });

  test("a freshly minted secret validates; a one-character typo does not", () => {
    for (const head of ["sgl_sk_", "sgl_pat_"]) {
      const secret = mintSecret(head);
      expect(hasValidChecksum(secret)).toBe(true);
      const i = head.length + 3;
      const typo = `${secret.slice(0, i)}${secret[i] === "a" ? "b" : "a"}${secret.slice(i + 1)}`;
      expect(hasValidChecksum(typo)).toBe(false);
    }
  });
});
