import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import { Elysia, t } from "elysia";
import type { AppContext } from "../context.ts";
import { passkeys } from "../db/schema.ts";
import { authPlugin } from "../http/auth.ts";
import { metaOf } from "../http/context.ts";
import { ApiError } from "../http/errors.ts";
import { Deleted, ownerInput } from "../http/fields.ts";
import { ListQuery, PaginationModel, pageOf, paginated } from "../http/pagination.ts";
import { newId } from "../ids.ts";
import { admitSignup, refuseForeignOrigin, requireSignupOpen, startSession } from "./forms.ts";
import {
  CreationOptionsModel,
  IdParams,
  PasskeyCreateBody,
  PasskeyLoginBody,
  PasskeyModel,
  PasskeyRenameBody,
  PasskeySignupBody,
  RequestOptionsModel,
  SignupOptionsBody,
  UserModel,
} from "./model.ts";
import { availableIdentity, findOwner, insertOwner, userView } from "./owners.ts";
import {
  addPasskey,
  credentialsOf,
  deletePasskey,
  duplicateCredential,
  findByCredentialId,
  listPasskeys,
  newPasskey,
  passkeyView,
  recordUse,
  renamePasskey,
} from "./passkeys.ts";
import {
  authenticationOptions,
  type Binding,
  consumeChallenge,
  registrationOptions,
  verificationFailed,
  verifyAssertion,
  verifyRegistration,
} from "./webauthn.ts";

// http-api.md §3 passkey routes; the ceremonies themselves live in webauthn.ts.

const UserBody = t.Object({ user: UserModel });
// Not secured routes, yet a failed sign-in is a 401 INVALID_CREDENTIALS (as for passwords).
const Unauthorized = { 401: { $ref: "#/components/responses/Unauthorized" } };

const passkeySignInFailed = () =>
  new ApiError(401, "INVALID_CREDENTIALS", "Passkey not recognised or not valid");

/** Consumes the challenge and verifies the attestation: the new credential, or 400. */
async function registered(
  ctx: AppContext,
  request: Request,
  response: RegistrationResponseJSON,
  binding: Binding,
) {
  const challenge = await consumeChallenge(ctx, response.response.clientDataJSON, binding);
  if (!challenge) throw verificationFailed();
  const credential = await verifyRegistration(ctx, request, response, challenge.challenge);
  if (!credential) throw verificationFailed();
  return { challenge, credential };
}

function signupRoutes(ctx: AppContext) {
  return new Elysia({ prefix: "/v1/auth", tags: ["auth"] })
    .post(
      "/signup/options",
      async ({ body, request }) => {
        admitSignup(ctx, request, body.email);
        const identity = await availableIdentity(ctx, body);
        return registrationOptions(
          ctx,
          request,
          { id: newId.owner(), email: identity.email, namespace: identity.namespace },
          [],
          { ceremony: "signup", namespace: identity.namespace, email: identity.emailNormalized },
        );
      },
      ownerInput({
        body: SignupOptionsBody,
        response: { 200: CreationOptionsModel },
        detail: {
          operationId: "passkeySignupOptions",
          summary: "Start a passkey sign-up: checks the namespace and email, returns options",
        },
      }),
    )
    .post(
      "/signup/passkey",
      async ({ body, request, cookie, set }) => {
        refuseForeignOrigin(ctx, request);
        requireSignupOpen(ctx);
        const identity = await availableIdentity(ctx, body);
        const { challenge, credential } = await registered(ctx, request, body.response, {
          ceremony: "signup",
          namespace: identity.namespace,
          email: identity.emailNormalized,
        });
        const now = ctx.clock.now();
        // The id the authenticator was given as the user handle at options time.
        const owner = {
          id: challenge.ownerId ?? newId.owner(),
          ...identity,
          passwordHash: null,
          createdAt: now,
          updatedAt: now,
        };
        const passkey = newPasskey(ctx, owner.id, credential);
        await insertOwner(ctx, owner, [ctx.database.db.insert(passkeys).values(passkey)]).catch(
          duplicateCredential,
        );
        await startSession(ctx, request, cookie, owner.id);
        set.status = 201;
        return { user: await userView(ctx, owner) };
      },
      ownerInput({
        body: PasskeySignupBody,
        response: { 201: UserBody },
        detail: {
          operationId: "signUpWithPasskey",
          summary: "Create an owner account with a passkey and no password",
        },
      }),
    );
}

function loginRoutes(ctx: AppContext) {
  return new Elysia({ prefix: "/v1/auth", tags: ["auth"] })
    .post(
      "/login/options",
      async ({ request }) => {
        refuseForeignOrigin(ctx, request);
        // Buckets of their own: password failures never block a passkey sign-in (quality.md §4).
        // Starting one is not an attempt (finishing one is, below), and the sign-in page starts
        // one on every load for autofill, so its budget is larger.
        ctx.limiter.hit(
          `login:passkey:ip:${JSON.stringify(metaOf(request).ip)}`,
          ctx.config.rateLimitPasskeyOptions,
        );
        return authenticationOptions(ctx, request);
      },
      ownerInput({
        response: { 200: RequestOptionsModel },
        detail: {
          operationId: "passkeyLoginOptions",
          summary: "Start a passkey sign-in (discoverable credentials)",
        },
      }),
    )
    .post(
      "/login/passkey",
      async ({ body, request, cookie }) => {
        refuseForeignOrigin(ctx, request);
        ctx.limiter.hit(
          `login:passkey:verify:${JSON.stringify(metaOf(request).ip)}`,
          ctx.config.rateLimitAuth,
        );
        const { response } = body;
        const challenge = await consumeChallenge(ctx, response.response.clientDataJSON, {
          ceremony: "login",
        });
        const passkey = challenge ? await findByCredentialId(ctx, response.id) : null;
        if (!challenge || !passkey) throw passkeySignInFailed();
        const use = await verifyAssertion(ctx, request, response, challenge.challenge, passkey);
        if (!use || !(await recordUse(ctx, passkey, use))) throw passkeySignInFailed();
        const owner = await findOwner(ctx, passkey.ownerId);
        if (!owner) throw passkeySignInFailed();
        await startSession(ctx, request, cookie, owner.id);
        return { user: await userView(ctx, owner) };
      },
      ownerInput({
        body: PasskeyLoginBody,
        response: { 200: UserBody },
        detail: {
          operationId: "logInWithPasskey",
          summary: "Sign in with a passkey",
          responses: Unauthorized,
        },
      }),
    );
}

function managementRoutes(ctx: AppContext) {
  return new Elysia({ prefix: "/v1/auth", tags: ["auth"] })
    .use(authPlugin(ctx))
    .get(
      "/passkeys/options",
      async ({ principal, request }) => {
        const owner = principal.owner;
        ctx.limiter.hit(`passkey:register:${owner.id}`, ctx.config.rateLimitAuth);
        return registrationOptions(ctx, request, owner, await credentialsOf(ctx, owner.id), {
          ceremony: "register",
        });
      },
      ownerInput({
        owner: true,
        response: { 200: CreationOptionsModel },
        detail: {
          operationId: "passkeyRegistrationOptions",
          summary: "Start adding a passkey to the signed-in owner",
        },
      }),
    )
    .post(
      "/passkeys",
      async ({ principal, body, request, set }) => {
        const ownerId = principal.owner.id;
        const { credential } = await registered(ctx, request, body.response, {
          ceremony: "register",
          ownerId,
        });
        const passkey = newPasskey(ctx, ownerId, credential, body.name);
        await addPasskey(ctx, passkey);
        set.status = 201;
        return passkeyView(passkey);
      },
      ownerInput({
        owner: true,
        body: PasskeyCreateBody,
        response: { 201: PasskeyModel },
        detail: { operationId: "createPasskey", summary: "Add a passkey" },
      }),
    )
    .get(
      "/passkeys",
      async ({ principal, query }) => {
        const page = pageOf(query);
        const { rows, total } = await listPasskeys(ctx, principal.owner.id, page);
        return paginated("passkeys", rows.map(passkeyView), page, total);
      },
      ownerInput({
        owner: true,
        query: ListQuery,
        response: {
          200: t.Object({ passkeys: t.Array(PasskeyModel), pagination: PaginationModel }),
        },
        detail: { operationId: "listPasskeys", summary: "List passkeys" },
      }),
    )
    .patch(
      "/passkeys/:id",
      async ({ principal, params, body }) =>
        passkeyView(await renamePasskey(ctx, principal.owner.id, params.id, body.name)),
      ownerInput({
        owner: true,
        params: IdParams,
        body: PasskeyRenameBody,
        response: { 200: PasskeyModel },
        detail: { operationId: "renamePasskey", summary: "Rename a passkey" },
      }),
    )
    .delete(
      "/passkeys/:id",
      async ({ principal, params }) => {
        await deletePasskey(ctx, principal.owner.id, params.id);
        return { id: params.id, deleted: true };
      },
      ownerInput({
        owner: true,
        params: IdParams,
        response: { 200: Deleted },
        detail: {
          operationId: "deletePasskey",
          summary: "Remove a passkey (not the account's last way to sign in)",
        },
      }),
    );
}

/** Every passkey route; mounted by the auth feature's plugin. */
export function passkeyRoutes(ctx: AppContext) {
  return new Elysia().use(signupRoutes(ctx)).use(loginRoutes(ctx)).use(managementRoutes(ctx));
}
