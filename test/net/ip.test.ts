import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseCidr } from "../../src/net/cidr.ts";
import { formatIp, parseIp } from "../../src/net/ip.ts";
import { ip, LOOPBACK_FORMS } from "../helpers/addresses.ts";

function bytesOf(text: string): number[] {
  return Array.from(ip(text));
}

describe("parseIp: IPv4 inet_aton forms", () => {
  test.each(LOOPBACK_FORMS)("%s is 127.0.0.1", (text) => {
    expect(bytesOf(text)).toEqual([127, 0, 0, 1]);
  });

  test.each([
    ["1.2.3", [1, 2, 0, 3]],
    ["1.65535", [1, 0, 255, 255]],
    ["4294967295", [255, 255, 255, 255]],
    ["0", [0, 0, 0, 0]],
    ["0x", [0, 0, 0, 0]],
    ["010.0x10.0.1", [8, 16, 0, 1]],
    ["8.8.8.8", [8, 8, 8, 8]],
  ])("%s parses to %p", (text, expected) => {
    expect(bytesOf(text)).toEqual(expected);
  });

  test.each([
    "",
    ".",
    "256.0.0.1",
    "1.2.3.256",
    "1.2.3.4.5",
    "1.16777216",
    "4294967296",
    "08.1",
    "09",
    "1..2",
    "1.2.3.4..",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1.2.3.-4",
    "+1.2.3.4",
    "0x1g",
    "example.com",
    "[1.2.3.4]",
    "1.2.3.4%eth0",
  ])("%p is not an address", (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe("parseIp: IPv6", () => {
  test.each([
    ["::", "0:0:0:0:0:0:0:0"],
    ["::1", "0:0:0:0:0:0:0:1"],
    ["[::1]", "0:0:0:0:0:0:0:1"],
    ["1::", "1:0:0:0:0:0:0:0"],
    ["2001:DB8::1", "2001:db8:0:0:0:0:0:1"],
    ["1:2:3:4:5:6::8", "1:2:3:4:5:6:0:8"],
    ["fe80::1%eth0", "fe80:0:0:0:0:0:0:1"],
    ["[fe80::1%eth0]", "fe80:0:0:0:0:0:0:1"],
    ["::ffff:127.0.0.1", "0:0:0:0:0:ffff:7f00:1"],
    ["::ffff:7f00:1", "0:0:0:0:0:ffff:7f00:1"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
    ["64:ff9b::10.0.0.1", "64:ff9b:0:0:0:0:a00:1"],
  ])("%s equals %s", (short, full) => {
    expect(bytesOf(short)).toEqual(bytesOf(full));
  });

  test("a full eight-group address maps groups to bytes in network order", () => {
    expect(bytesOf("0102:0304:0506:0708:090a:0b0c:0d0e:0f10")).toEqual(
      Array.from({ length: 16 }, (_, i) => i + 1),
    );
  });

  test.each([
    ":",
    ":::",
    "1::2::3",
    ":1::",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7::8",
    "12345::",
    "::g",
    "::ffff:1.2.3",
    "::ffff:01.2.3.4",
    "::ffff:256.1.1.1",
    "::ffff:0x7f.0.0.1",
    "::1.2.3.4:5",
    "1.2.3.4::",
    "fe80::1%",
    "[::1",
    "::1]",
    "[[::1]]",
  ])("%p is not an address", (text) => {
    expect(parseIp(text)).toBeNull();
  });
});

describe("formatIp", () => {
  test.each([
    ["10.0.0.1", "10.0.0.1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["2001:0DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["1:0:0:1:0:0:0:1", "1:0:0:1::1"],
    ["1:0:0:1:1:0:0:1", "1::1:1:0:0:1"],
    ["1:0:1:1:1:1:1:1", "1:0:1:1:1:1:1:1"],
    ["::ffff:a00:1", "::ffff:10.0.0.1"],
  ])("%s formats as %s", (text, expected) => {
    expect(formatIp(ip(text))).toBe(expected);
  });

  test("rejects byte arrays that are neither 4 nor 16 long", () => {
    expect(() => formatIp(new Uint8Array(5))).toThrow(RangeError);
  });
});

describe("properties", () => {
  const v6Bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });

  test("IPv6 formatIp -> parseIp round-trips, bracketed too", () => {
    fc.assert(
      fc.property(v6Bytes, (bytes) => {
        const text = formatIp(bytes);
        expect(parseIp(text)).toEqual(bytes);
        expect(parseIp(`[${text}]`)).toEqual(bytes);
      }),
    );
  });

  test("single-number IPv4 forms equal the 32-bit value in decimal, hex and octal", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), (n) => {
        const expected = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
        for (const form of [String(n), `0x${n.toString(16)}`, `0${n.toString(8)}`]) {
          expect(Array.from(ip(form))).toEqual(expected);
        }
      }),
    );
  });

  const ipAlphabet = fc.constantFrom(..."0123456789abcdefxX.:[]%/ ");
  test.each([
    ["fc.string", fc.string()],
    ["binary (full unicode) strings", fc.string({ unit: "binary" })],
    ["IP-alphabet strings", fc.string({ unit: ipAlphabet, maxLength: 48 })],
  ])("parseIp never throws on %s", (_name, strings) => {
    fc.assert(
      fc.property(strings, (text) => {
        const result = parseIp(text);
        expect(result === null || result.length === 4 || result.length === 16).toBe(true);
        expect(() => parseCidr(text)).not.toThrow();
      }),
    );
  });
});
