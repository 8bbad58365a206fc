/** CIDR ranges: parsing ("10.0.0.0/8", "fd00::/8", a bare address) and membership. */
import { type IpBytes, isMapped, parseIp, prefixMatches, toMapped } from "./ip.ts";

export interface Cidr {
  bytes: IpBytes;
  prefix: number;
}

function hostBitsZero(bytes: IpBytes, prefix: number): boolean {
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    if ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return false;
  }
  return true;
}

/**
 * Parses "10.0.0.0/8", "fd00::/8" or a bare address (/32 or /128).
 * Host bits must be zero, so a misread like "10/8" (inet_aton: 0.0.0.10/8) is rejected.
 */
export function parseCidr(text: string): Cidr | null {
  const slash = text.lastIndexOf("/");
  const bytes = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (!bytes) return null;
  const max = bytes.length * 8;
  if (slash === -1) return { bytes, prefix: max };
  const prefixText = text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > max || !hostBitsZero(bytes, prefix)) return null;
  return { bytes, prefix };
}

/** Splits a comma/whitespace separated list, e.g. the SIGILUM_WEBHOOK_ALLOWED_CIDRS value. */
export function parseCidrList(text: string): { cidrs: Cidr[]; invalid: string[] } {
  const cidrs: Cidr[] = [];
  const invalid: string[] = [];
  for (const entry of text.split(/[\s,]+/).filter((e) => e !== "")) {
    const cidr = parseCidr(entry);
    if (cidr) cidrs.push(cidr);
    else invalid.push(entry);
  }
  return { cidrs, invalid };
}

/** True when ip is inside cidr; an IPv4 CIDR also matches the IPv4-mapped IPv6 form and vice versa. */
export function cidrContains(cidr: Cidr, ip: IpBytes): boolean {
  if (cidr.bytes.length === ip.length) return prefixMatches(cidr.bytes, ip, cidr.prefix);
  if (cidr.bytes.length === 4 && isMapped(ip)) {
    return prefixMatches(cidr.bytes, ip.subarray(12), cidr.prefix);
  }
  if (cidr.bytes.length === 16 && ip.length === 4) {
    return prefixMatches(cidr.bytes, toMapped(ip), cidr.prefix);
  }
  return false;
}
