/**
 * Passkey challenges live in the database: a ceremony started on one instance finishes on
 * another, and a challenge is used at most once even when the same response races itself.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ApiClient, startTestServer, type TestServer, uniqueName } from "../helpers/server.ts";
import { SoftAuthenticator } from "../helpers/softAuthenticator.ts";
import type { CreationOptions, ErrorBody, RequestOptions, User } from "./passkeySupport.ts";

// Both instances behind one public URL, as behind a load balancer.
const PUBLIC = "http://localhost:8080";
const env = { SIGILUM_PUBLIC_URL: PUBLIC };
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  a = await startTestServer({ env });
  b = await startTestServer({ env, dataDir: a.dataDir });
});
afterAll(async () => {
  await b.close();
  await a.close();
});

test("options from one instance, the passkey to another; a replay to the first is refused", async () => {
  const namespace = uniqueName("pki");
  const email = `${namespace}@example.com`;
  const onA = new ApiClient(a.url, PUBLIC);
  const onB = new ApiClient(b.url, PUBLIC);
  const options = await onA.post<CreationOptions>("/v1/auth/signup/options", { namespace, email });
  expect(options.status).toBe(200);
  expect(options.body.rp.id).toBe("localhost");
  const authenticator = await SoftAuthenticator.create();
  const response = await authenticator.register(options.body, PUBLIC);
  const res = await onB.post<{ user: User }>("/v1/auth/signup/passkey", {
    namespace,
    email,
    response,
  });
  expect(res.status).toBe(201);

  const login = await onA.post<RequestOptions>("/v1/auth/login/options");
  const assertion = await authenticator.authenticate(login.body, PUBLIC);
  expect((await onB.post("/v1/auth/login/passkey", { response: assertion })).status).toBe(200);
  const replay = await new ApiClient(a.url, PUBLIC).post<ErrorBody>("/v1/auth/login/passkey", {
    response: assertion,
  });
  expect({ status: replay.status, code: replay.body.code }).toEqual({
    status: 401,
    code: "INVALID_CREDENTIALS",
  });
});

test("one sign-in response sent to both instances many times at once signs in exactly once", async () => {
  const namespace = uniqueName("pki");
  const email = `${namespace}@example.com`;
  const client = new ApiClient(a.url, PUBLIC);
  const authenticator = await SoftAuthenticator.create();
  const options = await client.post<CreationOptions>("/v1/auth/signup/options", {
    namespace,
    email,
  });
  const signup = await client.post("/v1/auth/signup/passkey", {
    namespace,
    email,
    response: await authenticator.register(options.body, PUBLIC),
  });
  expect(signup.status).toBe(201);
  const login = await client.post<RequestOptions>("/v1/auth/login/options");
  const response = await authenticator.authenticate(login.body, PUBLIC);
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      new ApiClient(i % 2 ? b.url : a.url, PUBLIC).post("/v1/auth/login/passkey", { response }),
    ),
  );
  expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
});
