import type { Elysia } from "elysia";
import { newId } from "../ids.ts";
import type { Metrics } from "../metrics.ts";
import { attachMeta, clientIp, metaOf, requestIdFrom } from "./context.ts";
import { localHost } from "./listen.ts";
import type { Logger } from "./logger.ts";

export interface HttpServer {
  port: number;
  /** A loopback URL that reaches the server from this machine. */
  url: string;
  /** The address actually bound (the wildcard stays a wildcard). */
  bound: { address: string; port: number };
  stop(): Promise<void>;
}

// Bun refuses bodies over this itself; our own parser enforces SIGILUM_MAX_BODY_BYTES with the API's
// error shape, so Bun's limit only needs to be far above it.
const TRANSPORT_BODY_LIMIT = 1024 * 1024 * 1024;

/**
 * Bun hands over `http://<Host header>/path`, or just `/path` when the Host is not a valid host.
 * The router splits the URL after the scheme (`standardHostname: false` in app.ts), and the rest
 * of the app parses it with `new URL`; so a request whose URL would not parse gets a stand-in
 * host, and routing depends on the path alone.
 */
function routableRequest(request: Request, fallbackHost: string): Request {
  if (request.url.startsWith("http://") && URL.canParse(request.url)) return request;
  const url = request.url;
  const authorityEnd = url.startsWith("/") ? 0 : url.indexOf("/", url.indexOf("//") + 2);
  const pathAndQuery = authorityEnd === -1 ? "/" : url.slice(authorityEnd);
  return new Request(`http://${fallbackHost}${pathAndQuery}`, request);
}

/** Serves the Elysia app with request ids and one structured log line per request. */
export function serveHttp(
  app: Elysia,
  opts: { host: string; port: number; trustProxy: boolean; logger: Logger; metrics: Metrics },
): HttpServer {
  let fallbackHost = "localhost";
  const server = Bun.serve({
    hostname: opts.host,
    port: opts.port,
    maxRequestBodySize: TRANSPORT_BODY_LIMIT,
    fetch: async (request, srv) => {
      let ip: string | undefined;
      const meta = {
        id: requestIdFrom(request, newId.request),
        startedAt: performance.now(),
        // Looked up only when something reads it (rate limits, the request log).
        get ip() {
          ip ??= clientIp(request, srv.requestIP(request)?.address ?? "unknown", opts.trustProxy);
          return ip;
        },
      };
      const routable = routableRequest(request, fallbackHost);
      attachMeta(routable, meta);
      const response = await app.handle(routable);
      response.headers.set("x-request-id", meta.id);
      logRequest(opts.logger, opts.metrics, routable, response);
      return response;
    },
  });
  const port = server.port ?? opts.port;
  const bound = { address: server.hostname ?? opts.host, port };
  fallbackHost = localHost(bound.address, port);
  const host = opts.host === "0.0.0.0" || opts.host === "::" ? "127.0.0.1" : opts.host;
  return {
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    bound,
    stop: () => server.stop(),
  };
}

function logRequest(logger: Logger, metrics: Metrics, request: Request, response: Response) {
  const meta = metaOf(request);
  const seconds = (performance.now() - meta.startedAt) / 1000;
  const route = meta.route ?? "(unmatched)";
  metrics.recordRequest(route, request.method, response.status, seconds);
  if (!logger.enabled("info")) return;
  logger.info("request", {
    request_id: meta.id,
    method: request.method,
    route,
    status: response.status,
    duration_ms: Math.round(seconds * 100_000) / 100,
    ip: meta.ip,
  });
}
