/**
 * http-api.md §5: a request authenticated by a service API key that also carries agent-signature
 * headers must have that signature verify (a present but bad signature is 401/403, never ignored),
 * and on POST /v1/claims the signature is checked before the body is validated.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Agent, newAgent, type SignedCallOptions, signedCall } from "../helpers/agent.ts";
import { expectError, expectValidation } from "../helpers/assertions.ts";
import { ApiClient, startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { ApiErrorBody, ClaimSubmitted } from "../helpers/types.ts";

let t: TestServer;
let s: ServiceSetup;
let other: ServiceSetup;
/** An agent of `s.namespace`, and one of another namespace. */
let agent: Agent;
let stranger: Agent;

beforeAll(async () => {
  t = await startTestServer();
  [s, other] = await Promise.all([ownerWithKey(t), ownerWithKey(t)]);
  agent = await newAgent(s.namespace);
  stranger = await newAgent(other.namespace);
});
afterAll(() => t.close());

const flipSignature = (h: Record<string, string>) => {
  const bytes = Buffer.from(/^sig1=:(.+):$/.exec(h.signature!)![1]!, "base64");
  bytes[0]! ^= 1;
  h.signature = `sig1=:${bytes.toString("base64")}:`;
};
const HOUR_AGO = () => Math.floor(Date.now() / 1000) - 3600;

/** A GET with the API key and a signature shaped by `options`. */
function keyAndSignature(path: string, signer: Agent, options: SignedCallOptions = {}) {
  return signedCall<unknown>(t, signer, "GET", path, undefined, { apiKey: s.apiKey, ...options });
}

/** A GET with the API key and only the headers given (no signature of ours). */
function keyWithHeaders(path: string, headers: Record<string, string>) {
  const client = new ApiClient(t.url, null);
  client.bearer = s.apiKey;
  return client.get<unknown>(path, headers);
}

const VERIFY = () =>
  `/v1/verify?namespace=${s.namespace}&public_key=${encodeURIComponent(agent.publicKey)}`;
const FEED = () => `/v1/namespaces/claims?service=${s.slug}`;
const FACTS = () => `/v1/namespaces/${s.namespace}`;

describe.each([
  ["GET /v1/verify", VERIFY],
  ["GET /v1/namespaces/claims (feed)", FEED],
  ["GET /v1/namespaces/{namespace}", FACTS],
])("%s with an API key and signature headers", (_route, path) => {
  test("a valid signature of the namespace's agent → 200", async () => {
    expect((await keyAndSignature(path(), agent)).status).toBe(200);
  });

  test("a signature that does not verify → 401 SIGNATURE_INVALID", async () => {
    expectError(
      await keyAndSignature(path(), agent, { tamper: flipSignature }),
      401,
      "SIGNATURE_INVALID",
    );
  });

  test("an expired signature → 401 SIGNATURE_EXPIRED", async () => {
    expectError(
      await keyAndSignature(path(), agent, { created: HOUR_AGO() }),
      401,
      "SIGNATURE_EXPIRED",
    );
  });

  test("a garbage signature header alone → 401 SIGNATURE_MISSING (the rest is missing)", async () => {
    expectError(
      await keyWithHeaders(path(), { signature: "sig1=:Z2FyYmFnZQ==:" }),
      401,
      "SIGNATURE_MISSING",
    );
  });

  test("any sigilum-* signature header alone counts as presenting a signature → 401", async () => {
    expectError(
      await keyWithHeaders(path(), { "sigilum-namespace": s.namespace }),
      401,
      "SIGNATURE_MISSING",
    );
  });

  test("a replayed signed request → 409 SIGNATURE_NONCE_REPLAY", async () => {
    const nonce = crypto.randomUUID();
    expect((await keyAndSignature(path(), agent, { nonce })).status).toBe(200);
    expectError(await keyAndSignature(path(), agent, { nonce }), 409, "SIGNATURE_NONCE_REPLAY");
  });

  test("the API key alone still works → 200", async () => {
    expect((await keyWithHeaders(path(), {})).status).toBe(200);
  });
});

describe("namespace binding next to an API key", () => {
  test("verify: another namespace's signature → 403 SIGNATURE_NAMESPACE_MISMATCH", async () => {
    expectError(await keyAndSignature(VERIFY(), stranger), 403, "SIGNATURE_NAMESPACE_MISMATCH");
  });

  test("namespace facts: another namespace's signature → 403 SIGNATURE_NAMESPACE_MISMATCH", async () => {
    expectError(await keyAndSignature(FACTS(), stranger), 403, "SIGNATURE_NAMESPACE_MISMATCH");
  });

  test("feed: not bound to a namespace, another namespace's valid signature → 200", async () => {
    expect((await keyAndSignature(FEED(), stranger)).status).toBe(200);
  });

  test("verify: with a signature, public_key defaults to the signer's key", async () => {
    const res = await keyAndSignature(`/v1/verify?namespace=${s.namespace}`, agent);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ authorized: false, status: "none" });
  });
});

describe("POST /v1/claims: the signature is checked before the body is validated", () => {
  const key = () => {
    const client = new ApiClient(t.url, null);
    client.bearer = s.apiKey;
    return client;
  };
  const post = (body: unknown, options: SignedCallOptions = {}) =>
    signedCall<ClaimSubmitted>(t, agent, "POST", "/v1/claims", body, {
      apiKey: s.apiKey,
      ...options,
    });

  test("API key, no signature, body {} → 401 SIGNATURE_MISSING", async () => {
    expectError(await key().post<ApiErrorBody>("/v1/claims", {}), 401, "SIGNATURE_MISSING");
  });

  test("API key, no signature, wrongly typed body → 401 SIGNATURE_MISSING", async () => {
    expectError(
      await key().post<ApiErrorBody>("/v1/claims", { namespace: 5, agent_ip: [] }),
      401,
      "SIGNATURE_MISSING",
    );
  });

  test("API key, no signature, no body → 401 SIGNATURE_MISSING", async () => {
    expectError(await key().post<ApiErrorBody>("/v1/claims"), 401, "SIGNATURE_MISSING");
  });

  test("a bad signature over an invalid body → 401 SIGNATURE_INVALID", async () => {
    expectError(
      await post({ namespace: s.namespace }, { tamper: flipSignature }),
      401,
      "SIGNATURE_INVALID",
    );
  });

  test("an expired signature over an invalid body → 401 SIGNATURE_EXPIRED", async () => {
    expectError(await post({}, { created: HOUR_AGO() }), 401, "SIGNATURE_EXPIRED");
  });

  test("a valid signature over {} → 400 VALIDATION_ERROR naming the missing fields", async () => {
    const res = await post({});
    expectValidation(res, "namespace");
    expectValidation(res, "agent_ip");
  });

  test("a valid signature, body without agent_ip → 400 VALIDATION_ERROR agent_ip", async () => {
    const res = await post({
      namespace: s.namespace,
      public_key: agent.publicKey,
      service: s.slug,
      nonce: `n-${crypto.randomUUID()}`,
    });
    expectValidation(res, "agent_ip");
  });

  test("the body's namespace binds even when other fields are invalid → 403", async () => {
    expectError(
      await post({ namespace: other.namespace, agent_ip: 7 }),
      403,
      "SIGNATURE_NAMESPACE_MISMATCH",
    );
  });
});
