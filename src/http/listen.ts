import type { Config } from "../config.ts";

/** What the start-up log says about where the server listens (operations.md §5). */
export interface ListenNotices {
  /** The address actually bound, `host:port` (IPv6 bracketed). */
  address: string;
  /** The URL to open in a browser: the public URL, else localhost for a wildcard or loopback bind. */
  url: string;
  warnings: string[];
}

const WILDCARD = new Set(["0.0.0.0", "::", ""]);

/** localhost, *.localhost, 127.0.0.0/8 and ::1: names and addresses that never leave the machine. */
function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return (
    name === "localhost" ||
    name.endsWith(".localhost") ||
    /^127(?:\.\d{1,3}){3}$/.test(name) ||
    name === "::1" ||
    name === "0:0:0:0:0:0:0:1"
  );
}

function hostPort(address: string, port: number): string {
  return `${address.includes(":") ? `[${address}]` : address}:${port}`;
}

/** Sign-in over plain http beyond loopback sends passwords and session cookies in the clear. */
function servesPlainHttpBeyondLoopback(
  config: Pick<Config, "publicUrl" | "trustProxy">,
  bound: string,
): boolean {
  if (config.publicUrl)
    return config.publicUrl.protocol === "http:" && !isLoopbackHost(config.publicUrl.hostname);
  // Behind a trusted proxy the scheme is the proxy's (X-Forwarded-Proto), not known at start-up.
  return !config.trustProxy && !isLoopbackHost(bound);
}

/** `localhost:<port>` for a wildcard or loopback bind (what a browser on this machine opens), else the address. */
export function localHost(address: string, port: number): string {
  return WILDCARD.has(address) || isLoopbackHost(address)
    ? `localhost:${port}`
    : hostPort(address, port);
}

export function listenNotices(
  config: Pick<Config, "publicUrl" | "trustProxy" | "signup">,
  bound: { address: string; port: number },
): ListenNotices {
  const address = hostPort(bound.address, bound.port);
  const url = config.publicUrl?.origin ?? `http://${localHost(bound.address, bound.port)}`;
  const warnings: string[] = [];
  if (!isLoopbackHost(bound.address) && config.signup === "open") {
    warnings.push(
      `sign-up is open to anyone who can reach ${address}: create your account, then set ` +
        "SIGILUM_SIGNUP=closed (or listen on loopback only with SIGILUM_HOST=127.0.0.1)",
    );
  }
  if (servesPlainHttpBeyondLoopback(config, bound.address)) {
    warnings.push(
      "sign-in is served over plain http beyond loopback: passwords and session cookies cross " +
        "the network unencrypted; put a TLS proxy in front and set SIGILUM_PUBLIC_URL=https://…",
    );
  }
  return { address, url, warnings };
}
