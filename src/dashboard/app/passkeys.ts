import {
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
} from "@simplewebauthn/browser";
import { api } from "./api.ts";
import type { User } from "./types.ts";

// The ceremonies of http-api.md §3 with @simplewebauthn/browser. The options routes may answer
// the options themselves or wrap them as `{options}`; both are accepted.
type Options = Record<string, unknown>;
const optionsOf = (answer: Options) => (answer.options ?? answer) as Options;

/** Sign in with a discoverable credential; `autofill` starts the conditional (autofill) flow. */
export async function passkeySignIn(autofill: boolean): Promise<User> {
  const options = optionsOf(await api.post<Options>("/v1/auth/login/options"));
  const response = await startAuthentication({
    // biome-ignore lint/suspicious/noExplicitAny: the server's options JSON, passed through as is
    optionsJSON: options as any,
    useBrowserAutofill: autofill,
  });
  return (await api.post<{ user: User }>("/v1/auth/login/passkey", { response })).user;
}

export async function autofillAvailable(): Promise<boolean> {
  try {
    return await browserSupportsWebAuthnAutofill();
  } catch {
    return false;
  }
}

export function cancelCeremony() {
  WebAuthnAbortService.cancelCeremony();
}

export async function passkeySignUp(namespace: string, email: string): Promise<User> {
  const options = optionsOf(
    await api.post<Options>("/v1/auth/signup/options", { namespace, email }),
  );
  // biome-ignore lint/suspicious/noExplicitAny: the server's options JSON, passed through as is
  const response = await startRegistration({ optionsJSON: options as any });
  return (await api.post<{ user: User }>("/v1/auth/signup/passkey", { namespace, email, response }))
    .user;
}

export async function addPasskey(): Promise<void> {
  const options = optionsOf(await api.get<Options>("/v1/auth/passkeys/options"));
  // biome-ignore lint/suspicious/noExplicitAny: the server's options JSON, passed through as is
  const response = await startRegistration({ optionsJSON: options as any });
  await api.post("/v1/auth/passkeys", { response });
}

/** A WebAuthn failure in plain words (the user cancelling is not an error worth shouting). */
export function ceremonyMessage(error: unknown): string {
  const name = (error as { name?: string })?.name;
  if (name === "NotAllowedError" || name === "AbortError")
    return "The passkey prompt was cancelled or timed out.";
  return error instanceof Error ? error.message : String(error);
}
