import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { cidrContains, parseCidr, parseCidrList } from "../../src/net/cidr.ts";
import { formatIp } from "../../src/net/ip.ts";
import { cidr, ip } from "../helpers/addresses.ts";

describe("parseCidr / cidrContains", () => {
  test("parses prefixes and bare addresses", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ bytes: ip("10.0.0.0"), prefix: 8 });
    expect(parseCidr("fd00::/8")).toEqual({ bytes: ip("fd00::"), prefix: 8 });
    expect(parseCidr("1.2.3.4")).toEqual({ bytes: ip("1.2.3.4"), prefix: 32 });
    expect(parseCidr("::1")).toEqual({ bytes: ip("::1"), prefix: 128 });
    expect(parseCidr("0.0.0.0/0")).toEqual({ bytes: ip("0.0.0.0"), prefix: 0 });
  });

  test.each([
    "10.0.0.1/8",
    "10/8",
    "10.0.0.0/33",
    "::/129",
    "10.0.0.0/",
    "10.0.0.0/-1",
    "10.0.0.0/ 8",
    "10.0.0.0/8/8",
    "host/8",
    "",
  ])("%p is rejected", (text) => {
    expect(parseCidr(text)).toBeNull();
  });

  test("parseCidrList splits on commas and whitespace and reports bad entries", () => {
    const { cidrs, invalid } = parseCidrList(" 10.0.0.0/8, fd00::/8\n192.168.1.1 ,bogus, 10/8");
    expect(cidrs).toEqual([cidr("10.0.0.0/8"), cidr("fd00::/8"), cidr("192.168.1.1/32")]);
    expect(invalid).toEqual(["bogus", "10/8"]);
  });

  test("prefix boundaries that are not byte-aligned", () => {
    const cgnat = cidr("100.64.0.0/10");
    expect(cidrContains(cgnat, ip("100.64.0.0"))).toBe(true);
    expect(cidrContains(cgnat, ip("100.127.255.255"))).toBe(true);
    expect(cidrContains(cgnat, ip("100.63.255.255"))).toBe(false);
    expect(cidrContains(cgnat, ip("100.128.0.0"))).toBe(false);
    const ula = cidr("fc00::/7");
    expect(cidrContains(ula, ip("fdff::1"))).toBe(true);
    expect(cidrContains(ula, ip("fe00::1"))).toBe(false);
  });

  test("/0 contains every address of its own family only", () => {
    expect(cidrContains(cidr("0.0.0.0/0"), ip("203.0.113.9"))).toBe(true);
    expect(cidrContains(cidr("::/0"), ip("2606:4700::1111"))).toBe(true);
    expect(cidrContains(cidr("::/0"), ip("8.8.8.8"))).toBe(true);
    expect(cidrContains(cidr("0.0.0.0/0"), ip("2606:4700::1111"))).toBe(false);
  });

  test("an IPv4 CIDR matches the IPv4-mapped IPv6 form, but not other embeddings", () => {
    const ten = cidr("10.0.0.0/8");
    expect(cidrContains(ten, ip("::ffff:10.1.2.3"))).toBe(true);
    expect(cidrContains(ten, ip("::ffff:11.1.2.3"))).toBe(false);
    expect(cidrContains(ten, ip("64:ff9b::10.1.2.3"))).toBe(false);
    expect(cidrContains(ten, ip("::10.1.2.3"))).toBe(false);
  });

  test("a mapped IPv6 CIDR matches the plain IPv4 address", () => {
    expect(cidrContains(cidr("::ffff:10.0.0.0/104"), ip("10.9.9.9"))).toBe(true);
    expect(cidrContains(cidr("::ffff:10.0.0.0/104"), ip("11.9.9.9"))).toBe(false);
  });
});

describe("properties", () => {
  const v4Bytes = fc.uint8Array({ minLength: 4, maxLength: 4 });
  const v6Bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });

  test("a CIDR built from any address contains it", () => {
    const sample = fc.oneof(
      fc.tuple(v4Bytes, fc.integer({ min: 0, max: 32 })),
      fc.tuple(v6Bytes, fc.integer({ min: 0, max: 128 })),
    );
    fc.assert(
      fc.property(sample, ([bytes, prefix]) => {
        const masked = bytes.map((b, i) => {
          const keep = Math.max(0, Math.min(8, prefix - i * 8));
          return b & ((0xff << (8 - keep)) & 0xff);
        });
        const range = cidr(`${formatIp(masked)}/${prefix}`);
        expect(cidrContains(range, bytes)).toBe(true);
      }),
    );
  });
});
