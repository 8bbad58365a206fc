import type { Cookie } from "elysia";
import type { AppContext } from "../context.ts";
import { metaOf, publicOrigin } from "../http/context.ts";
import { csrfRejected, forbidden } from "../http/errors.ts";
import { setSessionCookie } from "./guard.ts";
import { createSession } from "./sessions.ts";

// What the sign-up and sign-in forms share, password or passkey: one place for each check.

/** Sign-in forms are not cookie-authenticated, but a foreign Origin is still refused (login CSRF). */
export function refuseForeignOrigin(ctx: AppContext, request: Request) {
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== publicOrigin(request, ctx.config)) {
    throw csrfRejected();
  }
}

export function requireSignupOpen(ctx: AppContext) {
  if (ctx.config.signup === "closed") {
    throw forbidden(
      "SIGNUP_DISABLED",
      "Sign-up is closed on this server; ask its operator for an account",
    );
  }
}

/**
 * The gate of every sign-up (password, or a passkey's options): Origin, the per-IP budget, open
 * sign-up, then the per-email budget. Returns the caller's IP.
 */
export function admitSignup(ctx: AppContext, request: Request, email: string): string {
  refuseForeignOrigin(ctx, request);
  const ip = metaOf(request).ip;
  ctx.limiter.hit(`signup:ip:${ip}`, ctx.config.rateLimitAuth);
  requireSignupOpen(ctx);
  ctx.limiter.hit(`signup:email:${email.trim().toLowerCase()}`, ctx.config.rateLimitAuth);
  return ip;
}

/** Starts a session for the owner and sets its cookie (every successful sign-up or sign-in). */
export async function startSession(
  ctx: AppContext,
  request: Request,
  jar: Record<string, Cookie<unknown>>,
  ownerId: string,
): Promise<void> {
  const { session, token } = await createSession(ctx, ownerId, {
    ip: metaOf(request).ip,
    userAgent: request.headers.get("user-agent"),
  });
  setSessionCookie(ctx, request, jar, token, session);
}
