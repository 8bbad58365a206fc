/** The SSRF policy for webhook targets: which ranges and names are refused, and DNS resolution (webhooks.md §5). */
import { lookup } from "node:dns/promises";
import {
  type Cidr,
  cidrContains,
  formatIp,
  type IpBytes,
  parseCidr,
  parseIp,
} from "../net/index.ts";

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

type Lookup = (host: string) => Promise<{ address: string }[]>;

const osLookup: Lookup = (host) => lookup(host, { all: true, verbatim: true });

/**
 * Resolves every A/AAAA address of host via the OS resolver, giving up after 3 s. A failure keeps
 * the resolver's code (ENOTFOUND, EAI_AGAIN; ETIMEOUT for the time limit) for the attempt's error.
 */
export function defaultResolve(
  host: string,
  opts: { timeoutMs?: number; lookup?: Lookup } = {},
): Promise<string[]> {
  const timeoutMs = opts.timeoutMs ?? DNS_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`DNS lookup of '${host}' timed out after ${timeoutMs} ms`);
      reject(Object.assign(error, { code: "ETIMEOUT" }));
    }, timeoutMs);
  });
  const lookedUp = (opts.lookup ?? osLookup)(host).then((rows) => rows.map((row) => row.address));
  return Promise.race([lookedUp, timeout]).finally(() => clearTimeout(timer));
}
