import type { Cidr, IpBytes } from "../../src/net/index.ts";
import { parseCidr, parseIp } from "../../src/net/index.ts";

/** A test fixture's address as bytes; throws when the text is not an IP. */
export function ip(text: string): IpBytes {
  const bytes = parseIp(text);
  if (!bytes) throw new Error(`test fixture '${text}' is not an IP`);
  return bytes;
}

export function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`test fixture '${text}' is not a CIDR`);
  return parsed;
}

/** Every inet_aton spelling of 127.0.0.1 a URL host may use. */
export const LOOPBACK_FORMS = [
  "0x7f.1",
  "2130706433",
  "127.1",
  "0177.0.0.1",
  "127.0.0.1.",
  "0x7f000001",
  "0x7F.0.0.1",
  "127.0.1",
  "017700000001",
];
