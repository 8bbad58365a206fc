import { lookup } from "node:dns/promises";

/** 4 bytes (IPv4) or 16 bytes (IPv6), network order. */
export type IpBytes = Uint8Array;

export interface Cidr {
  bytes: IpBytes;
  prefix: number;
}

export interface AddressPolicy {
  allowPrivate: boolean;
  allowedCidrs: Cidr[];
}

export interface UrlPolicy extends AddressPolicy {
  allowHttp: boolean;
  resolve: (host: string) => Promise<string[]>;
}

export type UrlCheck = { ok: true; url: URL; resolved: string[] } | { ok: false; reason: string };

export const MAX_WEBHOOK_URL_LENGTH = 2048;
export const DNS_TIMEOUT_MS = 3000;

const ALLOW_HTTP_SETTING = "SIGILUM_WEBHOOK_ALLOW_HTTP";
const ALLOW_PRIVATE_SETTING = "SIGILUM_WEBHOOK_ALLOW_PRIVATE";
const ALLOWED_CIDRS_SETTING = "SIGILUM_WEBHOOK_ALLOWED_CIDRS";

const MAPPED_PREFIX = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0]);

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const OCTAL = /^0[0-7]+$/;
const HEX = /^0[xX][0-9a-fA-F]*$/;

function parseV4Part(part: string): number | null {
  // "0x" alone is 0, matching the WHATWG URL host parser.
  if (HEX.test(part)) return part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
  if (OCTAL.test(part)) return Number.parseInt(part.slice(1), 8);
  if (DECIMAL.test(part)) return Number.parseInt(part, 10);
  return null;
}

function parseV4(text: string): IpBytes | null {
  const body = text.endsWith(".") ? text.slice(0, -1) : text;
  const parts = body.split(".");
  if (parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    const value = parseV4Part(part);
    if (value === null) return null;
    values.push(value);
  }
  const last = values.pop() ?? 0;
  if (values.some((v) => v > 255)) return null;
  // The last part fills all remaining bytes: "127.1" is 127.0.0.1, "2130706433" is 127.0.0.1.
  if (last >= 256 ** (4 - values.length)) return null;
  const total = values.reduce((sum, v, i) => sum + v * 256 ** (3 - i), last);
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, total);
  return bytes;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseV6Groups(text: string, allowV4Tail: boolean): number[] | null {
  if (text === "") return [];
  const groups: number[] = [];
  const pieces = text.split(":");
  for (const [i, piece] of pieces.entries()) {
    // An embedded IPv4 tail must be plain dotted decimal, so it has to be canonical.
    const v4 = allowV4Tail && i === pieces.length - 1 ? parseV4(piece) : null;
    if (v4 && formatV4(v4) === piece) {
      groups.push(v4[0]! * 256 + v4[1]!, v4[2]! * 256 + v4[3]!);
    } else if (HEX_GROUP.test(piece)) {
      groups.push(Number.parseInt(piece, 16));
    } else {
      return null;
    }
  }
  return groups;
}

function parseV6(text: string): IpBytes | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const compressed = halves.length === 2;
  const head = parseV6Groups(halves[0]!, !compressed);
  const tail = compressed ? parseV6Groups(halves[1]!, true) : [];
  if (!head || !tail) return null;
  const count = head.length + tail.length;
  // "::" stands for at least one zero group.
  if (compressed ? count > 7 : count !== 8) return null;
  const groups = [...head, ...new Array<number>(8 - count).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

function stripZone(text: string): string | null {
  const at = text.indexOf("%");
  if (at === -1) return text;
  return at === text.length - 1 ? null : text.slice(0, at);
}

/** Parses IPv4 (every inet_aton form, one trailing dot allowed) or IPv6 (brackets and zone id allowed). */
export function parseIp(text: string): IpBytes | null {
  const bracketed = text.startsWith("[") && text.endsWith("]");
  const inner = bracketed ? text.slice(1, -1) : text;
  if (!inner.includes(":")) return bracketed ? null : parseV4(inner);
  const unzoned = stripZone(inner);
  return unzoned === null ? null : parseV6(unzoned);
}

function formatV4(bytes: IpBytes): string {
  return Array.from(bytes).join(".");
}

function longestZeroRun(groups: number[]): { start: number; length: number } {
  let best = { start: -1, length: 0 };
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start === -1) start = i;
    } else if (start !== -1) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best;
}

function formatV6(bytes: IpBytes): string {
  if (isMapped(bytes)) return `::ffff:${formatV4(bytes.subarray(12))}`;
  const groups = Array.from({ length: 8 }, (_, i) => bytes[i * 2]! * 256 + bytes[i * 2 + 1]!);
  const hex = groups.map((g) => g.toString(16));
  const run = longestZeroRun(groups);
  // RFC 5952: compress only runs of two or more zero groups.
  if (run.length < 2) return hex.join(":");
  const left = hex.slice(0, run.start).join(":");
  const right = hex.slice(run.start + run.length).join(":");
  return `${left}::${right}`;
}

/** Canonical text: dotted decimal for IPv4, RFC 5952 for IPv6 (IPv4-mapped shown as ::ffff:a.b.c.d). */
export function formatIp(bytes: IpBytes): string {
  if (bytes.length === 4) return formatV4(bytes);
  if (bytes.length === 16) return formatV6(bytes);
  throw new RangeError(`IP address must be 4 or 16 bytes, got ${bytes.length}`);
}

function prefixMatches(a: IpBytes, b: IpBytes, prefix: number): boolean {
  const whole = Math.floor(prefix / 8);
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const bits = prefix % 8;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((a[whole]! ^ b[whole]!) & mask) === 0;
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

function isMapped(ip: IpBytes): boolean {
  return ip.length === 16 && prefixMatches(ip, MAPPED_PREFIX, 96);
}

function toMapped(v4: IpBytes): IpBytes {
  const bytes = new Uint8Array(MAPPED_PREFIX);
  bytes.set(v4, 12);
  return bytes;
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

interface NamedRange {
  cidr: Cidr;
  text: string;
  label: string;
}

function namedRange(text: string, label: string): NamedRange {
  const cidr = parseCidr(text);
  if (!cidr) throw new Error(`invalid built-in CIDR ${text}`);
  return { cidr, text, label };
}

const BLOCKED_V4: NamedRange[] = [
  namedRange("0.0.0.0/8", "this network"),
  namedRange("10.0.0.0/8", "private"),
  namedRange("100.64.0.0/10", "carrier-grade NAT"),
  namedRange("127.0.0.0/8", "loopback"),
  namedRange("169.254.0.0/16", "link-local"),
  namedRange("172.16.0.0/12", "private"),
  namedRange("192.0.0.0/24", "IETF protocol assignments"),
  namedRange("192.0.2.0/24", "documentation"),
  namedRange("192.88.99.0/24", "6to4 relay anycast"),
  namedRange("192.168.0.0/16", "private"),
  namedRange("198.18.0.0/15", "benchmarking"),
  namedRange("198.51.100.0/24", "documentation"),
  namedRange("203.0.113.0/24", "documentation"),
  namedRange("224.0.0.0/4", "multicast"),
  namedRange("255.255.255.255/32", "broadcast"),
  namedRange("240.0.0.0/4", "reserved"),
];

const BLOCKED_V6: NamedRange[] = [
  namedRange("::/128", "unspecified"),
  namedRange("::1/128", "loopback"),
  namedRange("fc00::/7", "unique local"),
  namedRange("fe80::/10", "link-local"),
  namedRange("ff00::/8", "multicast"),
  namedRange("2001:db8::/32", "documentation"),
  namedRange("100::/64", "discard-only"),
];

interface Embedding {
  range: NamedRange;
  /** The IPv4 addresses an address of this form carries (Teredo carries two). */
  ipv4s: (ip: IpBytes) => IpBytes[];
}

const ipv4At =
  (offset: number) =>
  (ip: IpBytes): IpBytes[] => [ip.subarray(offset, offset + 4)];

/**
 * Local-use NAT64 lets the operator pick the prefix length (RFC 8215, RFC 6052 layouts). The /96
 * layout keeps the IPv4 in the last 32 bits, where the /48 and /56 layouts leave zeros (0.0.0.0,
 * blocked); the /64 layout puts it in bits 72–103, after a zero octet, with a zero suffix.
 */
function localNat64Ipv4s(ip: IpBytes): IpBytes[] {
  const found = [ip.subarray(12, 16)];
  if (ip[8] === 0 && ip[13] === 0 && ip[14] === 0 && ip[15] === 0) found.push(ip.subarray(9, 13));
  return found;
}

/** Teredo: the server's IPv4 in bits 32–63, the client's in the last 32 bits, inverted. */
function teredoIpv4s(ip: IpBytes): IpBytes[] {
  return [ip.subarray(4, 8), ip.slice(12, 16).map((b) => b ^ 0xff)];
}

// IPv6 ranges that carry an IPv4 address, and where it sits.
const EMBEDDINGS: Embedding[] = [
  { range: namedRange("::ffff:0:0/96", "IPv4-mapped"), ipv4s: ipv4At(12) },
  { range: namedRange("::/96", "IPv4-compatible"), ipv4s: ipv4At(12) },
  { range: namedRange("64:ff9b::/96", "NAT64"), ipv4s: ipv4At(12) },
  { range: namedRange("64:ff9b:1::/48", "local-use NAT64"), ipv4s: localNat64Ipv4s },
  { range: namedRange("2002::/16", "6to4"), ipv4s: ipv4At(2) },
  { range: namedRange("2001::/32", "Teredo"), ipv4s: teredoIpv4s },
];

function describe(range: NamedRange): string {
  return `${range.text} (${range.label})`;
}

function firstMatch(ranges: NamedRange[], ip: IpBytes): NamedRange | undefined {
  return ranges.find((r) => r.cidr.bytes.length === ip.length && cidrContains(r.cidr, ip));
}

function embeddedReason(ip: IpBytes): string | null {
  for (const { range, ipv4s } of EMBEDDINGS) {
    if (!cidrContains(range.cidr, ip)) continue;
    for (const v4 of ipv4s(ip)) {
      const inner = firstMatch(BLOCKED_V4, v4);
      if (inner) return `${describe(inner)} embedded in ${describe(range)}`;
    }
    return null;
  }
  return null;
}

/** Names the non-public range containing ip, e.g. "127.0.0.0/8 (loopback)"; null when public. */
export function blockedReason(ip: IpBytes): string | null {
  if (ip.length === 4) {
    const range = firstMatch(BLOCKED_V4, ip);
    return range ? describe(range) : null;
  }
  const range = firstMatch(BLOCKED_V6, ip);
  return range ? describe(range) : embeddedReason(ip);
}

/** null when the policy allows connecting to ip; otherwise a sentence naming the setting to change. */
export function checkAddress(ip: IpBytes, policy: AddressPolicy): string | null {
  if (policy.allowPrivate) return null;
  if (policy.allowedCidrs.some((cidr) => cidrContains(cidr, ip))) return null;
  const reason = blockedReason(ip);
  if (reason === null) return null;
  return (
    `${formatIp(ip)} is a private address in ${reason}; set ${ALLOW_PRIVATE_SETTING}=true ` +
    `or ${ALLOWED_CIDRS_SETTING} to allow it`
  );
}

const TOO_LONG = `webhook URL must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
const BLOCKED_SUFFIXES = [".localhost", ".local", ".internal"];
const HTTP_REFUSAL = `webhook URL must use https (set ${ALLOW_HTTP_SETTING}=true to allow http)`;

function isBlockedHostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.+$/, "");
  return name === "localhost" || BLOCKED_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

function parseAbsoluteUrl(raw: string): URL | null {
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}

/** Refusals that no setting lifts: length, a scheme other than http(s), credentials, no host. */
function shapeReason(url: URL, allowHttp: boolean): string | null {
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) return TOO_LONG;
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return allowHttp ? "webhook URL must use https or http" : "webhook URL must use https";
  }
  if (url.username !== "" || url.password !== "") {
    return "webhook URL must not contain credentials";
  }
  if (url.hostname === "") return "webhook URL must have a host";
  return null;
}

function fail(reason: string): UrlCheck {
  return { ok: false, reason };
}

type HostCheck = { ok: true; resolved: string[] } | { ok: false; reason: string };

function refuse(reason: string): HostCheck {
  return { ok: false, reason };
}

async function resolveQuietly(host: string, policy: UrlPolicy): Promise<string[]> {
  // Unresolvable hosts pass: the delivery-time check on the connected address is authoritative.
  try {
    return await policy.resolve(host);
  } catch {
    return [];
  }
}

async function checkResolvedHost(host: string, policy: UrlPolicy): Promise<HostCheck> {
  const addresses = await resolveQuietly(host, policy);
  const resolved: string[] = [];
  for (const address of addresses) {
    const ip = parseIp(address);
    if (!ip) return refuse(`webhook host '${host}' resolves to '${address}', not an IP address`);
    const denied = checkAddress(ip, policy);
    if (denied) return refuse(`webhook host '${host}' resolves to a blocked address: ${denied}`);
    const text = formatIp(ip);
    if (!resolved.includes(text)) resolved.push(text);
  }
  return { ok: true, resolved };
}

/** The host-name rule and the address check; SIGILUM_WEBHOOK_ALLOW_PRIVATE lifts both. */
async function checkHost(host: string, policy: UrlPolicy): Promise<HostCheck> {
  if (!policy.allowPrivate && isBlockedHostName(host)) {
    return refuse(
      `webhook host '${host}' is not allowed (a local name; set ${ALLOW_PRIVATE_SETTING}=true to allow it)`,
    );
  }
  const literal = parseIp(host);
  if (literal) {
    const denied = checkAddress(literal, policy);
    return denied ? refuse(`webhook host ${denied}`) : { ok: true, resolved: [formatIp(literal)] };
  }
  // With allowPrivate every address passes, so resolving would only add latency.
  if (policy.allowPrivate) return { ok: true, resolved: [] };
  return checkResolvedHost(host, policy);
}

/**
 * Configuration-time check of a webhook URL: shape, scheme, host name, and every resolved address.
 * The scheme and the host are both checked before refusing, so the message names every setting
 * the URL needs (webhooks.md §5) and one restart does.
 */
export async function checkWebhookUrl(raw: string, policy: UrlPolicy): Promise<UrlCheck> {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return fail(TOO_LONG);
  const url = parseAbsoluteUrl(raw);
  if (!url) return fail("webhook URL must be an absolute URL");
  const shape = shapeReason(url, policy.allowHttp);
  if (shape) return fail(shape);
  const httpRefused = url.protocol === "http:" && !policy.allowHttp;
  const host = await checkHost(url.hostname, policy);
  if (host.ok && !httpRefused) return { ok: true, url, resolved: host.resolved };
  const reasons = [...(httpRefused ? [HTTP_REFUSAL] : []), ...(host.ok ? [] : [host.reason])];
  if (reasons.length === 1) return fail(reasons[0]!);
  const numbered = reasons.map((reason, i) => `(${i + 1}) ${reason}`).join(" ");
  return fail(
    `webhook URL is refused for ${reasons.length} reasons; change every setting named, then restart once: ${numbered}`,
  );
}

/** Resolves every A/AAAA address of host via the OS resolver, giving up after 3 s. */
export function defaultResolve(host: string): Promise<string[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`DNS lookup of '${host}' timed out after ${DNS_TIMEOUT_MS} ms`)),
      DNS_TIMEOUT_MS,
    );
  });
  const lookedUp = lookup(host, { all: true, verbatim: true }).then((rows) =>
    rows.map((row) => row.address),
  );
  return Promise.race([lookedUp, timeout]).finally(() => clearTimeout(timer));
}
