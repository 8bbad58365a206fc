import type {
  CreationOptionsModel,
  PasskeyModel,
  RequestOptionsModel,
  UserModel,
} from "../../src/auth/model.ts";
import { ApiClient, type TestServer, uniqueName } from "../helpers/server.ts";
import { type Overrides, SoftAuthenticator } from "../helpers/softAuthenticator.ts";

export type CreationOptions = typeof CreationOptionsModel.static;
export type RequestOptions = typeof RequestOptionsModel.static;
export type User = typeof UserModel.static;
export type Passkey = typeof PasskeyModel.static;
export type ErrorBody = { code: string; error: string; details?: { field: string }[] };

/** The options of a passkey sign-up (201 expected). */
export async function signupOptions(client: ApiClient, namespace: string, email: string) {
  const res = await client.post<CreationOptions>("/v1/auth/signup/options", { namespace, email });
  if (res.status !== 200)
    throw new Error(`signup options: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Signs a fresh owner up with a new passkey (no password); the client holds their session. */
export async function passkeySignUp(t: TestServer, namespace = uniqueName("pk")) {
  const client = new ApiClient(t.url, t.origin);
  const email = `${namespace}@example.com`;
  const authenticator = await SoftAuthenticator.create();
  const options = await signupOptions(client, namespace, email);
  const response = await authenticator.register(options, t.origin);
  const res = await client.post<{ user: User }>("/v1/auth/signup/passkey", {
    namespace,
    email,
    response,
  });
  if (res.status !== 201)
    throw new Error(`passkey signup: ${res.status} ${JSON.stringify(res.body)}`);
  return { client, namespace, email, user: res.body.user, authenticator };
}

/** A whole passkey sign-in (options, then the assertion) from a fresh browser. */
export async function passkeyLogin(
  t: TestServer,
  authenticator: SoftAuthenticator,
  overrides: Overrides = {},
) {
  const client = new ApiClient(t.url, t.origin);
  const options = await client.post<RequestOptions>("/v1/auth/login/options");
  if (options.status !== 200) throw new Error(`login options: ${options.status}`);
  const response = await authenticator.authenticate(options.body, t.origin, overrides);
  const res = await client.post<{ user: User } | ErrorBody>("/v1/auth/login/passkey", { response });
  return { client, res };
}

/** Adds a new passkey to the client's owner (options, then the attestation). */
export async function addPasskey(t: TestServer, client: ApiClient, name?: string) {
  const authenticator = await SoftAuthenticator.create({ synced: true });
  const options = await client.get<CreationOptions>("/v1/auth/passkeys/options");
  if (options.status !== 200) throw new Error(`passkey options: ${options.status}`);
  const response = await authenticator.register(options.body, t.origin);
  const res = await client.post<Passkey>("/v1/auth/passkeys", {
    response,
    ...(name === undefined ? {} : { name }),
  });
  return { authenticator, options: options.body, res };
}
