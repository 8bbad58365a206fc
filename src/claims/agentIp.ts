import { formatIp, parseIp } from "../net/index.ts";

/** 0–255 in plain decimal: no leading zero, so nothing reads as inet_aton octal or hex. */
const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])";
const DOTTED_QUAD = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const BRACKETED = /^\[([^\]]*)\](?::(.*))?$/;

function isPort(text: string): boolean {
  return /^[0-9]{1,5}$/.test(text) && Number(text) <= 65_535;
}

/** `[v6]`, `[v6]:port`, `v4:port` (one colon) or a bare address. */
function splitPort(text: string): { address: string; port: string | null } | null {
  const bracketed = BRACKETED.exec(text);
  if (bracketed)
    return bracketed[1]!.includes(":")
      ? { address: bracketed[1]!, port: bracketed[2] ?? null }
      : null;
  const colon = text.indexOf(":");
  if (colon !== -1 && colon === text.lastIndexOf(":"))
    return { address: text.slice(0, colon), port: text.slice(colon + 1) };
  return { address: text, port: null };
}

/**
 * `agent_ip` (http-api.md §5): an IPv4 dotted quad or an IPv6 address, optionally with a port
 * (`203.0.113.9:4711`, `[2001:db8::1]:443`) that is dropped; returns the canonical text or null.
 * Stricter than the SSRF guard's `parseIp`, which must read every form a resolver would
 * (`0x7f.1`, `127.1`, …): an informational field has no reason to accept those.
 */
export function parseAgentIp(text: string): string | null {
  const parts = splitPort(text);
  if (!parts || (parts.port !== null && !isPort(parts.port))) return null;
  const { address } = parts;
  if (DOTTED_QUAD.test(address)) return address;
  // From here only IPv6 (parseIp would read inet_aton IPv4 forms), and without a zone id.
  if (!address.includes(":") || address.includes("%")) return null;
  const bytes = parseIp(address);
  return bytes ? formatIp(bytes) : null;
}
