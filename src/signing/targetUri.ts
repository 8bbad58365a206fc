/** `@target-uri` (signing.md §4) and the URL the server must rebuild to check it. */

/**
 * WHATWG serialisation without the fragment: lower-case host, default port dropped, empty
 * path → `/`, query and existing percent-escapes kept. Throws `TypeError` on a non-URL.
 */
export function normalizeTargetUri(url: string | URL): string {
  const parsed = new URL(url);
  parsed.hash = "";
  return parsed.href;
}

export interface TargetUriSource {
  /** The request URL as the server received it (e.g. `request.url`). */
  requestUrl: string | URL;
  /** `SIGILUM_PUBLIC_URL`: when set, its scheme, host and port win over everything else. */
  publicUrl?: URL | null;
  /** `SIGILUM_TRUST_PROXY`: honour X-Forwarded-Proto / X-Forwarded-Host. */
  trustProxy: boolean;
  headers: Headers;
}

/** Without this a TLS-terminating proxy would change scheme/host and break every signature. */
export function rebuildTargetUri(source: TargetUriSource): string {
  const request = new URL(source.requestUrl);
  const pathAndQuery = pathAndQueryOf(request);
  // Only scheme, host and port come from the public URL (spec §4); any path on it is ignored.
  if (source.publicUrl) return normalizeTargetUri(`${source.publicUrl.origin}${pathAndQuery}`);
  if (!source.trustProxy) return normalizeTargetUri(request);
  const proto = forwardedProto(source.headers) ?? request.protocol.slice(0, -1);
  const host = forwardedHost(source.headers) ?? request.host;
  return normalizeTargetUri(`${proto}://${host}${pathAndQuery}`);
}

/**
 * §4's fallback, for clients that sign the URL as they send it (the Go and Python SDKs). The
 * server only sees a WHATWG-normalised URL, so the received spelling is rebuilt from what
 * survives: the authority as written (Host, or a trusted X-Forwarded-Host; case and an explicit
 * default port kept) and `'` raw in the query where WHATWG wrote `%27` (the only character of its
 * special-query set that a valid request-target may carry raw). It is always a spelling of the
 * WHATWG form, never another URL: an authority naming another host (e.g. the loopback Host
 * behind SIGILUM_PUBLIC_URL) gives way to the WHATWG one. Null when there is nothing else to try.
 */
export function rebuildReceivedTargetUri(
  source: TargetUriSource,
  whatwg: string = rebuildTargetUri(source),
): string | null {
  const url = new URL(whatwg);
  const tail = pathAndQueryOf(url);
  const at = tail.includes("?") ? tail.indexOf("?") : tail.length;
  const rawQuery = tail.slice(at).replaceAll("%27", "'");
  const received = `${url.protocol}//${sentAuthority(source, url)}${tail.slice(0, at)}${rawQuery}`;
  return received === whatwg ? null : received;
}

/** Path and query as serialised, keeping a bare trailing `?` (which `search` drops). */
function pathAndQueryOf(url: URL): string {
  return url.href.slice(`${url.protocol}//${url.host}`.length).replace(/#.*$/s, "");
}

/** The authority the client wrote, if it spells the WHATWG form's host and port; else that host. */
function sentAuthority(source: TargetUriSource, url: URL): string {
  const sent =
    (source.trustProxy ? forwardedHost(source.headers) : null) ??
    source.headers.get("host")?.trim();
  return sent && spellsHostOf(sent, url) ? sent : url.host;
}

/** host[:port] characters only (no userinfo, path or backslash) naming `url`'s host and port. */
function spellsHostOf(authority: string, url: URL): boolean {
  if (!/^[^/?#@\\\s]+$/.test(authority)) return false;
  try {
    return new URL(`${url.protocol}//${authority}`).host === url.host;
  } catch {
    return false;
  }
}

/** First hop's value (the client-facing proxy); anything but http/https is ignored. */
function forwardedProto(headers: Headers): string | null {
  const value = firstForwardedValue(headers, "x-forwarded-proto")?.toLowerCase();
  return value === "http" || value === "https" ? value : null;
}

/** A bare host[:port] only, so a forged value cannot smuggle a path or credentials. */
function forwardedHost(headers: Headers): string | null {
  const value = firstForwardedValue(headers, "x-forwarded-host");
  return value && /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/.test(value)
    ? value
    : null;
}

function firstForwardedValue(headers: Headers, name: string): string | null {
  const first = headers.get(name)?.split(",")[0]?.trim();
  return first ? first : null;
}
