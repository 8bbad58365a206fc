// What other features may use of auth; everything else in this folder is internal.
// The `export type` models are the API's shapes the dashboard (src/dashboard/app) reads; types only.
export {
  authenticateOwnerRequest,
  ownNamespace,
  type Principal,
  stillAuthenticated,
} from "./guard.ts";
export type {
  CreatedTokenModel,
  PasskeyModel,
  SessionModel,
  TokenModel,
  UserModel,
} from "./model.ts";
export { NAMESPACE_PATTERN } from "./model.ts";
export { createOwner, findOwnerByNamespace } from "./owners.ts";
export { hashPassword } from "./passwords.ts";
export { SESSION_COOKIE } from "./sessions.ts";
export { futureTimestamp } from "./tokens.ts";

import { Elysia, t } from "elysia";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { authPlugin } from "../http/auth.ts";
import { metaOf } from "../http/context.ts";
import { notFound } from "../http/errors.ts";
import { Deleted, ownerInput } from "../http/fields.ts";
import { ListQuery, PaginationModel, pageOf, paginated } from "../http/pagination.ts";
import { admitSignup, refuseForeignOrigin, startSession } from "./forms.ts";
import { clearSessionCookie } from "./guard.ts";
import {
  CreatedTokenModel,
  IdParams,
  LoginBody,
  PasswordChangeBody,
  SessionModel,
  SignupBody,
  TokenCreateBody,
  TokenModel,
  UserModel,
} from "./model.ts";
import {
  changePassword,
  checkCredentials,
  createOwner,
  deleteAccount,
  findOwnerByLogin,
  userView,
} from "./owners.ts";
import { passkeyRoutes } from "./passkeyRoutes.ts";
import { listSessions, revokeSession, sessionExpiresAt } from "./sessions.ts";
import { accountOf, PasswordThrottle } from "./throttle.ts";
import { createToken, deleteToken, listTokens, tokenView } from "./tokens.ts";

function publicAuthRoutes(ctx: AppContext) {
  const throttle = new PasswordThrottle(ctx);
  return new Elysia({ prefix: "/v1/auth", tags: ["auth"] })
    .get(
      "/signup",
      // Lets a sign-up page say up front that accounts are made by the operator (SIGILUM_SIGNUP).
      () => ({ signup: ctx.config.signup }),
      ownerInput({
        response: { 200: t.Object({ signup: t.Union([t.Literal("open"), t.Literal("closed")]) }) },
        detail: {
          operationId: "getSignupStatus",
          summary: "Whether sign-up is open on this server",
        },
      }),
    )
    .post(
      "/signup",
      async ({ body, request, cookie, set }) => {
        const ip = admitSignup(ctx, request, body.email);
        const owner = await createOwner(ctx, body);
        throttle.signedIn(accountOf(owner, body.email), ip);
        await startSession(ctx, request, cookie, owner.id);
        set.status = 201;
        return { user: await userView(ctx, owner) };
      },
      ownerInput({
        body: SignupBody,
        response: { 201: t.Object({ user: UserModel }) },
        detail: { operationId: "signUp", summary: "Create an owner account" },
      }),
    )
    .post(
      "/login",
      async ({ body, request, cookie }) => {
        refuseForeignOrigin(ctx, request);
        const ip = metaOf(request).ip;
        throttle.countAttempt(ip);
        const named = await findOwnerByLogin(ctx, body.login);
        const attempt = throttle.reserveFailure(accountOf(named, body.login), ip);
        const owner = await checkCredentials(named, body.password);
        attempt.succeeded();
        await startSession(ctx, request, cookie, owner.id);
        return { user: await userView(ctx, owner) };
      },
      ownerInput({
        body: LoginBody,
        response: { 200: t.Object({ user: UserModel }) },
        detail: {
          operationId: "logIn",
          summary: "Sign in with email or namespace",
          // Not a secured route, yet a failed sign-in is a 401 INVALID_CREDENTIALS.
          responses: { 401: { $ref: "#/components/responses/Unauthorized" } },
        },
      }),
    );
}

function accountRoutes(ctx: AppContext) {
  return new Elysia({ prefix: "/v1/auth", tags: ["auth"] })
    .use(authPlugin(ctx))
    .post(
      "/logout",
      async ({ principal, cookie }) => {
        if (principal.kind === "session")
          await revokeSession(ctx, principal.owner.id, principal.session.id);
        clearSessionCookie(cookie);
        return { ok: true };
      },
      ownerInput({
        owner: true,
        response: { 200: t.Object({ ok: t.Boolean() }) },
        detail: { operationId: "logOut", summary: "End the current session" },
      }),
    )
    .get(
      "/me",
      async ({ principal }) => ({ user: await userView(ctx, principal.owner) }),
      ownerInput({
        owner: true,
        response: { 200: t.Object({ user: UserModel }) },
        detail: { operationId: "getMe", summary: "The signed-in owner" },
      }),
    )
    .get(
      "/sessions",
      async ({ principal, query }) => {
        const page = pageOf(query);
        const { rows, total } = await listSessions(ctx, principal.owner.id, page);
        const current = principal.kind === "session" ? principal.session.id : null;
        const items = rows.map((s) => ({
          id: s.id,
          created_at: toIso(s.createdAt),
          last_renewed_at: toIso(s.renewedAt),
          expires_at: toIso(sessionExpiresAt(s)),
          ip: s.ip,
          user_agent: s.userAgent,
          current: s.id === current,
        }));
        return paginated("sessions", items, page, total);
      },
      ownerInput({
        owner: true,
        query: ListQuery,
        response: {
          200: t.Object({ sessions: t.Array(SessionModel), pagination: PaginationModel }),
        },
        detail: { operationId: "listSessions", summary: "List active sessions" },
      }),
    )
    .delete(
      "/sessions/:id",
      async ({ principal, params, cookie }) => {
        if (!(await revokeSession(ctx, principal.owner.id, params.id))) throw notFound("Session");
        if (principal.kind === "session" && principal.session.id === params.id)
          clearSessionCookie(cookie);
        return { id: params.id, deleted: true };
      },
      ownerInput({
        owner: true,
        params: IdParams,
        response: { 200: Deleted },
        detail: { operationId: "deleteSession", summary: "End a session" },
      }),
    )
    .post(
      "/password",
      async ({ principal, body }) => {
        const keep = principal.kind === "session" ? principal.session.id : null;
        await changePassword(ctx, principal.owner, body, keep);
        return { ok: true };
      },
      ownerInput({
        owner: true,
        body: PasswordChangeBody,
        response: { 200: t.Object({ ok: t.Boolean() }) },
        detail: { operationId: "changePassword", summary: "Change password; ends other sessions" },
      }),
    )
    .get(
      "/tokens",
      async ({ principal, query }) => {
        const page = pageOf(query);
        const { rows, total } = await listTokens(ctx, principal.owner.id, page);
        return paginated("tokens", rows.map(tokenView), page, total);
      },
      ownerInput({
        owner: true,
        query: ListQuery,
        response: { 200: t.Object({ tokens: t.Array(TokenModel), pagination: PaginationModel }) },
        detail: { operationId: "listTokens", summary: "List personal access tokens" },
      }),
    )
    .post(
      "/tokens",
      async ({ principal, body, set }) => {
        set.status = 201;
        return createToken(ctx, principal.owner.id, body);
      },
      ownerInput({
        owner: true,
        body: TokenCreateBody,
        response: { 201: CreatedTokenModel },
        detail: {
          operationId: "createToken",
          summary: "Create a personal access token (shown once)",
        },
      }),
    )
    .delete(
      "/tokens/:id",
      async ({ principal, params }) => {
        if (!(await deleteToken(ctx, principal.owner.id, params.id))) throw notFound("Token");
        return { id: params.id, deleted: true };
      },
      ownerInput({
        owner: true,
        params: IdParams,
        response: { 200: Deleted },
        detail: { operationId: "deleteToken", summary: "Revoke a personal access token" },
      }),
    )
    .delete(
      "/account",
      async ({ principal, cookie }) => {
        await deleteAccount(ctx, principal.owner.id);
        clearSessionCookie(cookie);
        return { id: principal.owner.id, deleted: true };
      },
      ownerInput({
        owner: true,
        response: { 200: Deleted },
        detail: {
          operationId: "deleteAccount",
          summary: "Delete the account and everything it owns",
        },
      }),
    );
}

export function authFeature(ctx: AppContext) {
  return new Elysia({ name: "auth" })
    .use(publicAuthRoutes(ctx))
    .use(accountRoutes(ctx))
    .use(passkeyRoutes(ctx));
}
