import { eq } from "drizzle-orm";
import type { Cookie } from "elysia";
import type { AppContext } from "../context.ts";
import {
  type Owner,
  type PersonalAccessToken,
  personalAccessTokens,
  type Session,
  sessions,
} from "../db/schema.ts";
import { publicOrigin } from "../http/context.ts";
import { csrfRejected, notFound, unauthorized } from "../http/errors.ts";
import { findOwner } from "./owners.ts";
import { SESSION_COOKIE, sessionExpiresAt, validateSession } from "./sessions.ts";
import { authenticateToken } from "./tokens.ts";

export type Principal =
  | { kind: "session"; owner: Owner; session: Session }
  | { kind: "token"; owner: Owner; token: PersonalAccessToken };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * `Secure` exactly when the browser's origin is https (http-api.md §1.5): browsers drop a Secure
 * cookie set over plain http, which would sign nobody in on a LAN box or VM.
 */
function cookieSecure(ctx: AppContext, request: Request): boolean {
  return publicOrigin(request, ctx.config).startsWith("https:");
}

/** The session cookie in Elysia's cookie jar: the one place that reads it. */
function sessionCookie(jar: Record<string, Cookie<unknown>>): Cookie<unknown> {
  return jar[SESSION_COOKIE]!;
}

/** Signs the browser in: the session token in the cookie, with the session's expiry. */
export function setSessionCookie(
  ctx: AppContext,
  request: Request,
  jar: Record<string, Cookie<unknown>>,
  token: string,
  session: Session,
): void {
  sessionCookie(jar).set({
    value: token,
    ...sessionCookieOptions(ctx, request, sessionExpiresAt(session)),
  });
}

export function clearSessionCookie(jar: Record<string, Cookie<unknown>>): void {
  sessionCookie(jar).remove();
}

function sessionCookieOptions(ctx: AppContext, request: Request, expiresAt: number) {
  return {
    httpOnly: true,
    sameSite: "lax" as const,
    path: "/",
    secure: cookieSecure(ctx, request),
    maxAge: Math.max(0, Math.floor((expiresAt - ctx.clock.now()) / 1000)),
  };
}

/** Cookie-authenticated unsafe requests must come from our own origin (http-api.md §1.5). */
function checkCsrf(ctx: AppContext, request: Request): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.get("origin");
  if (origin !== null && origin === publicOrigin(request, ctx.config)) return;
  if (request.headers.get("sec-fetch-site") === "same-origin") return;
  throw csrfRejected();
}

function bearerOf(request: Request): string | null {
  const header = request.headers.get("authorization");
  if (header === null) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthorized("Authorization header must be 'Bearer <token>'");
  return m[1]!;
}

async function fromToken(ctx: AppContext, bearer: string): Promise<Principal> {
  const token = await authenticateToken(ctx, bearer);
  const owner = token && (await findOwner(ctx, token.ownerId));
  if (!token || !owner) throw unauthorized("Invalid or expired personal access token");
  return { kind: "token", owner, token };
}

async function fromSession(
  ctx: AppContext,
  request: Request,
  cookie: Cookie<unknown>,
): Promise<Principal> {
  const value = cookie.value;
  if (typeof value !== "string" || value.length === 0) throw unauthorized();
  const found = await validateSession(ctx, value);
  const owner = found && (await findOwner(ctx, found.session.ownerId));
  if (!found || !owner) {
    cookie.remove();
    throw unauthorized("Session expired or signed out");
  }
  checkCsrf(ctx, request);
  if (found.renewed) {
    cookie.set({ value, ...sessionCookieOptions(ctx, request, sessionExpiresAt(found.session)) });
  }
  return { kind: "session", owner, session: found.session };
}

/** Owner credentials: a personal access token (Bearer) or the session cookie. */
export async function authenticateOwnerRequest(
  ctx: AppContext,
  request: Request,
  jar: Record<string, Cookie<unknown>>,
): Promise<Principal> {
  const bearer = bearerOf(request);
  const principal =
    bearer !== null
      ? await fromToken(ctx, bearer)
      : await fromSession(ctx, request, sessionCookie(jar));
  const who = principal.kind === "session" ? principal.session.id : principal.token.id;
  ctx.limiter.hit(`owner:${who}`, ctx.config.rateLimitDefault);
  return principal;
}

/**
 * Whether the credential that authenticated `principal` still stands: its session or token row
 * is there and unexpired. Long-lived responses (event streams) ask this now and then, so a
 * logout, session or token deletion, password change or account deletion ends them. Reads only:
 * a stream neither renews its session nor counts against the owner's rate limit.
 */
export async function stillAuthenticated(ctx: AppContext, principal: Principal): Promise<boolean> {
  const db = ctx.database.db;
  const now = ctx.clock.now();
  if (principal.kind === "session") {
    const [row] = await db
      .select()
      .from(sessions)
      .where(eq(sessions.id, principal.session.id))
      .limit(1);
    return row !== undefined && sessionExpiresAt(row) > now;
  }
  const [row] = await db
    .select({ expiresAt: personalAccessTokens.expiresAt })
    .from(personalAccessTokens)
    .where(eq(personalAccessTokens.id, principal.token.id))
    .limit(1);
  return row !== undefined && (row.expiresAt === null || row.expiresAt > now);
}

/** Owners act only on their own namespace; anything else is 404 so existence does not leak. */
export function ownNamespace(owner: { namespace: string }, namespace: string): string {
  const ns = namespace.trim().toLowerCase();
  if (ns !== owner.namespace) throw notFound("Namespace");
  return ns;
}
