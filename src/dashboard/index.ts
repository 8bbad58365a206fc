import { Elysia, NotFoundError } from "elysia";
import type { Config } from "../config.ts";
import { type Assets, encodedBody, loadAssets } from "./assets.ts";
import { bundleDashboard } from "./bundle.ts" with { type: "macro" };

// Inlined at transpile time by the macro (bundle.ts): the binary carries the dashboard.
const BUNDLE = bundleDashboard();

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The headers of dashboard.md §1 on every dashboard response. */
export function securityHeaders(publicUrl: URL | null): Record<string, string> {
  const headers: Record<string, string> = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
  };
  if (publicUrl?.protocol === "https:")
    headers["strict-transport-security"] = "max-age=31536000; includeSubDomains";
  return headers;
}

/** Paths the API and the reference own: unknown ones stay JSON 404/405, never the shell. */
const API_PREFIXES = ["/v1/", "/.well-known/", "/1.0/"];
const API_PATHS = new Set([
  "/v1",
  "/docs",
  "/openapi.json",
  "/healthz",
  "/health",
  "/readyz",
  "/metrics",
]);

export function isApiPath(path: string): boolean {
  return API_PATHS.has(path) || API_PREFIXES.some((prefix) => path.startsWith(prefix));
}

/** The dashboard's catch-all GET; app.ts leaves it out of the table behind 405 answers. */
export const DASHBOARD_ROUTE = "/*";

let assets: Assets | undefined;
export function dashboardAssets(): Assets {
  assets ??= loadAssets(BUNDLE.files);
  return assets;
}

/**
 * `/assets/<hashed>` (immutable) and the HTML shell for every other non-API path without a file
 * extension (client-side routes). Hidden from the OpenAPI document: it is not part of the API.
 */
export function dashboardFeature(config: { publicUrl: Config["publicUrl"] }) {
  const security = securityHeaders(config.publicUrl);
  return new Elysia({ name: "dashboard" }).get(
    DASHBOARD_ROUTE,
    ({ request }) => {
      const path = new URL(request.url).pathname;
      // The conventions' error handler answers these with the API's 404 or 405.
      if (isApiPath(path)) throw new NotFoundError();
      const { shell, byName } = dashboardAssets();
      if (path.startsWith("/assets/")) {
        const asset = byName.get(path.slice("/assets/".length));
        if (!asset) return notFound(security);
        const { body, encoding } = encodedBody(asset, request.headers.get("accept-encoding"));
        const headers: Record<string, string> = {
          ...security,
          "content-type": asset.type,
          "cache-control": "public, max-age=31536000, immutable",
          vary: "Accept-Encoding",
        };
        if (encoding) headers["content-encoding"] = encoding;
        return new Response(body, { headers });
      }
      if (/\.[A-Za-z0-9]+$/.test(path)) return notFound(security);
      return new Response(shell, {
        headers: {
          ...security,
          "content-type": "text/html; charset=utf-8",
          "cache-control": "no-cache",
        },
      });
    },
    { detail: { hide: true } },
  );
}

function notFound(security: Record<string, string>): Response {
  return new Response("Not found\n", {
    status: 404,
    headers: {
      ...security,
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-cache",
    },
  });
}
