import type { Config } from "../config.ts";
import { rebuildTargetUri } from "../signing/index.ts";

/** Per-request facts set by the server wrapper before Elysia sees the request. */
export interface RequestMeta {
  id: string;
  startedAt: number;
  ip: string;
  route?: string;
  /** Raw request body bytes, kept for routes that verify signatures over them. */
  rawBody?: Uint8Array;
}

const metas = new WeakMap<Request, RequestMeta>();

export function attachMeta(request: Request, meta: RequestMeta): void {
  metas.set(request, meta);
}

export function metaOf(request: Request): RequestMeta {
  let meta = metas.get(request);
  if (!meta) {
    meta = { id: "unknown", startedAt: performance.now(), ip: "unknown" };
    metas.set(request, meta);
  }
  return meta;
}

const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

export function requestIdFrom(request: Request, generate: () => string): string {
  const given = request.headers.get("x-request-id");
  return given && SANE_REQUEST_ID.test(given) ? given : generate();
}

/** The origin the client used: the public URL when configured, else the request's own origin. */
export function publicOrigin(
  request: Request,
  config: Pick<Config, "publicUrl" | "trustProxy">,
): string {
  // One rule for "the URL the client used": the same one signatures are checked against.
  const url = rebuildTargetUri({
    requestUrl: request.url,
    publicUrl: config.publicUrl,
    trustProxy: config.trustProxy,
    headers: request.headers,
  });
  return new URL(url).origin;
}

/** With a trusted proxy, the right-most X-Forwarded-For entry: the one the proxy appended (clients control the rest). */
export function clientIp(request: Request, socketIp: string, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  return socketIp;
}
