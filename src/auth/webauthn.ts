import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import { eq } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { type Passkey, type WebauthnChallenge, webauthnChallenges } from "../db/schema.ts";
import { publicOrigin } from "../http/context.ts";
import { ApiError } from "../http/errors.ts";

/**
 * @simplewebauthn/server, loaded at the first ceremony: its certificate libraries cost ~100 ms
 * or more to load, which every server start would pay otherwise. The Reflect metadata
 * polyfill they need goes first (reflectPolyfill.ts says why).
 */
let library: Promise<typeof import("@simplewebauthn/server")> | undefined;
function webauthnLibrary() {
  library ??= import("./reflectPolyfill.ts").then(() => import("@simplewebauthn/server"));
  return library;
}

// The WebAuthn ceremonies (dashboard.md §4): challenges kept in the database so any instance can
// finish what another started, single-use, 5 minutes, and bound to the ceremony that made them.

const CHALLENGE_TTL_MS = 5 * 60_000;
const RP_NAME = "Sigilum";

type Ceremony = WebauthnChallenge["ceremony"];

/** What a challenge must have been issued for; anything else reads as an unknown challenge. */
export type Binding =
  | { ceremony: "register"; ownerId: string }
  | { ceremony: "signup"; namespace: string; email: string }
  | { ceremony: "login" };

export const verificationFailed = () =>
  new ApiError(400, "VERIFICATION_FAILED", "The passkey could not be verified; try again");
const challengeExpired = () =>
  new ApiError(400, "CHALLENGE_EXPIRED", "The passkey prompt expired; start again");

/** RP id = the public URL's host (or the request's when unset); the origin is checked exactly. */
export function relyingParty(ctx: AppContext, request: Request) {
  const origin = publicOrigin(request, ctx.config);
  return { id: new URL(origin).hostname, origin };
}

async function storeChallenge(
  ctx: AppContext,
  challenge: string,
  binding: { ceremony: Ceremony; ownerId?: string; namespace?: string; email?: string },
) {
  const now = ctx.clock.now();
  await ctx.database.db.insert(webauthnChallenges).values({
    challenge,
    ceremony: binding.ceremony,
    ownerId: binding.ownerId ?? null,
    namespace: binding.namespace ?? null,
    email: binding.email ?? null,
    createdAt: now,
    expiresAt: now + CHALLENGE_TTL_MS,
  });
}

/** Options for startRegistration(); `user.id` is the (future) owner's id. */
export async function registrationOptions(
  ctx: AppContext,
  request: Request,
  user: { id: string; email: string; namespace: string },
  existing: Pick<Passkey, "credentialId" | "transports">[],
  binding: { ceremony: "register" | "signup"; namespace?: string; email?: string },
) {
  const options = await (await webauthnLibrary()).generateRegistrationOptions({
    rpName: RP_NAME,
    rpID: relyingParty(ctx, request).id,
    userID: new TextEncoder().encode(user.id),
    userName: user.email,
    userDisplayName: user.namespace,
    timeout: CHALLENGE_TTL_MS,
    attestationType: "none",
    excludeCredentials: existing.map((p) => ({
      id: p.credentialId,
      transports: transportsOf(p),
    })),
    authenticatorSelection: { residentKey: "required", userVerification: "preferred" },
  });
  await storeChallenge(ctx, options.challenge, { ...binding, ownerId: user.id });
  return options;
}

/** Options for startAuthentication(): no allowCredentials, the authenticator offers its own. */
export async function authenticationOptions(ctx: AppContext, request: Request) {
  const options = await (await webauthnLibrary()).generateAuthenticationOptions({
    rpID: relyingParty(ctx, request).id,
    allowCredentials: [],
    userVerification: "preferred",
    timeout: CHALLENGE_TTL_MS,
  });
  await storeChallenge(ctx, options.challenge, { ceremony: "login" });
  // The library leaves `extensions: undefined` in; a JSON response has no undefined members.
  return Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as typeof options;
}

/** The challenge the browser signed, read from the response's clientDataJSON. */
function challengeOf(clientDataJSON: string): string | null {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8"));
    return typeof data?.challenge === "string" && data.challenge.length <= 512
      ? data.challenge
      : null;
  } catch {
    return null;
  }
}

/**
 * Takes the response's challenge out of the store (one DELETE … RETURNING, so two requests can
 * never both use it) and checks it was issued for this ceremony and has not expired.
 * `null` when it is unknown, used or bound to something else; 400 CHALLENGE_EXPIRED when stale.
 */
export async function consumeChallenge(
  ctx: AppContext,
  clientDataJSON: string,
  binding: Binding,
): Promise<WebauthnChallenge | null> {
  const challenge = challengeOf(clientDataJSON);
  if (challenge === null) return null;
  const [row] = await ctx.database.db
    .delete(webauthnChallenges)
    .where(eq(webauthnChallenges.challenge, challenge))
    .returning();
  if (!row || !matches(row, binding)) return null;
  if (row.expiresAt <= ctx.clock.now()) throw challengeExpired();
  return row;
}

function matches(row: WebauthnChallenge, binding: Binding): boolean {
  if (row.ceremony !== binding.ceremony) return false;
  if (binding.ceremony === "register") return row.ownerId === binding.ownerId;
  if (binding.ceremony === "signup")
    return row.namespace === binding.namespace && row.email === binding.email;
  return true;
}

/** The new credential, or null when the attestation does not verify. */
export async function verifyRegistration(
  ctx: AppContext,
  request: Request,
  response: RegistrationResponseJSON,
  challenge: string,
) {
  const rp = relyingParty(ctx, request);
  try {
    const result = await (await webauthnLibrary()).verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
    });
    if (!result.verified) return null;
    const info = result.registrationInfo;
    return {
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
      counter: info.credential.counter,
      transports: JSON.stringify(response.response.transports ?? []),
      backupEligible: info.credentialDeviceType === "multiDevice",
      backedUp: info.credentialBackedUp,
    };
  } catch {
    return null;
  }
}

/**
 * Checks an assertion against the stored credential (signature, origin, RP id, challenge, user
 * handle, backup eligibility, and a counter that must grow when either side is non-zero); the
 * counter and backup state to store, or null when it does not verify.
 */
export async function verifyAssertion(
  ctx: AppContext,
  request: Request,
  response: AuthenticationResponseJSON,
  challenge: string,
  passkey: Passkey,
) {
  // The user handle, when the authenticator sends one, must name the credential's owner (§7.2).
  const handle = response.response.userHandle;
  if (handle && Buffer.from(handle, "base64url").toString("utf8") !== passkey.ownerId) return null;
  const rp = relyingParty(ctx, request);
  try {
    const result = await (await webauthnLibrary()).verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: passkey.credentialId,
        publicKey: new Uint8Array(Buffer.from(passkey.publicKey, "base64url")),
        counter: passkey.counter,
        transports: transportsOf(passkey),
      },
      requireUserVerification: false,
    });
    if (!result.verified) return null;
    const info = result.authenticationInfo;
    // Backup eligibility is fixed for a credential's lifetime (WebAuthn §6.1.3): a change means
    // another authenticator is answering for it.
    if ((info.credentialDeviceType === "multiDevice") !== passkey.backupEligible) return null;
    return { counter: info.newCounter, backedUp: info.credentialBackedUp };
  } catch {
    return null;
  }
}

export function transportsOf(p: Pick<Passkey, "transports">): string[] {
  try {
    const list = JSON.parse(p.transports ?? "[]");
    return Array.isArray(list) ? list.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}
