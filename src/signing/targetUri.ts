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
  const pathAndQuery = `${request.pathname}${request.search}`;
  // Only scheme, host and port come from the public URL (spec §4); any path on it is ignored.
  if (source.publicUrl) return normalizeTargetUri(`${source.publicUrl.origin}${pathAndQuery}`);
  if (!source.trustProxy) return normalizeTargetUri(request);
  const proto = forwardedProto(source.headers) ?? request.protocol.slice(0, -1);
  const host = forwardedHost(source.headers) ?? request.host;
  return normalizeTargetUri(`${proto}://${host}${pathAndQuery}`);
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
