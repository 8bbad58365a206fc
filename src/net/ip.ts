/** IP addresses as bytes: parsing every form a URL host or a resolver may give, and canonical text. */

/** 4 bytes (IPv4) or 16 bytes (IPv6), network order. */
export type IpBytes = Uint8Array;

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

/** True when the first `prefix` bits of a and b are equal. */
export function prefixMatches(a: IpBytes, b: IpBytes, prefix: number): boolean {
  const whole = Math.floor(prefix / 8);
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const bits = prefix % 8;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((a[whole]! ^ b[whole]!) & mask) === 0;
}

/** True for an IPv4-mapped IPv6 address (::ffff:a.b.c.d). */
export function isMapped(ip: IpBytes): boolean {
  return ip.length === 16 && prefixMatches(ip, MAPPED_PREFIX, 96);
}

/** The IPv4-mapped IPv6 form of an IPv4 address. */
export function toMapped(v4: IpBytes): IpBytes {
  const bytes = new Uint8Array(MAPPED_PREFIX);
  bytes.set(v4, 12);
  return bytes;
}
