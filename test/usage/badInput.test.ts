/**
 * quality.md §2 on POST /v1/usage/events: every bad field gets 400 VALIDATION_ERROR naming it (or
 * the documented 4xx), never a 500, and the stored events are unchanged afterwards.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { newAgent } from "../helpers/agent.ts";
import { expectError, expectValidation } from "../helpers/assertions.ts";
import { type ApiClient, signUp, startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { UsageAccepted } from "../helpers/types.ts";
import { gatewayEvent, report, serviceClient, usageRows } from "./support.ts";

let t: TestServer;
let s: ServiceSetup;
let client: ApiClient;
let namespace: string;
let publicKey: string;

beforeAll(async () => {
  t = await startTestServer({ env: { SIGILUM_MAX_BODY_BYTES: "4096" } });
  s = await ownerWithKey(t);
  namespace = (await signUp(t)).namespace;
  publicKey = (await newAgent(namespace)).publicKey;
  client = serviceClient(t, s.apiKey);
  expect((await report(client, gatewayEvent(namespace, s.slug, publicKey))).status).toBe(201);
});
afterAll(() => t.close());

const long = (n: number) => "x".repeat(n);

/** [field, bad value] pairs; `undefined` means the field is left out. */
const BAD_FIELDS: [string, unknown][] = [
  ["event_id", undefined],
  ["event_id", ""],
  ["event_id", "   "],
  ["event_id", long(129)],
  ["event_id", 42],
  ["event_id", "evt\u0000nul"],
  ["namespace", undefined],
  ["namespace", long(65)],
  ["namespace", "ns\u0007"],
  ["service", undefined],
  ["service", ""],
  ["public_key", undefined],
  ["public_key", "not-a-key"],
  ["public_key", "ed25519:AAAA"],
  ["subject", undefined],
  ["subject", ""],
  ["subject", long(257)],
  ["subject", "bell\u0007"],
  ["subject", "del\u007f"],
  ["subject", "c1\u0085"],
  ["subject", "lone \ud800 surrogate"],
  ["subject", "lone \udc00 low"],
  ["subject", null],
  ["protocol", undefined],
  ["protocol", "grpc"],
  ["protocol", "HTTP"],
  ["action", undefined],
  ["action", long(65)],
  ["action", "tab\there"],
  ["outcome", undefined],
  ["outcome", long(33)],
  ["outcome", "ok\n"],
  ["agent_id", ""],
  ["agent_id", long(129)],
  ["agent_id", 7],
  ["status_code", 99],
  ["status_code", 600],
  ["status_code", 200.5],
  ["status_code", "200"],
  ["duration_ms", -1],
  ["duration_ms", 86_400_001],
  ["duration_ms", "12"],
  ["response_bytes", -1],
  ["response_bytes", 1.5],
  ["response_bytes", 2 ** 60],
  ["request_method", ""],
  ["request_method", long(17)],
  ["request_method", "GE\rT"],
  ["request_path", long(513)],
  ["request_path", "/a\nb"],
  ["request_path", ""],
  ["remote_ip", "not-an-ip"],
  ["remote_ip", "10.0.0.0/8"],
  ["remote_ip", "127.1"],
  ["remote_ip", "203.0.113.9:port"],
  ["remote_ip", "[2001:db8::1"],
];

async function snapshot() {
  return JSON.stringify(await usageRows(t));
}

test("each bad field is 400 VALIDATION_ERROR naming it, and nothing is stored", async () => {
  const before = await snapshot();
  for (const [field, value] of BAD_FIELDS) {
    const body: Record<string, unknown> = gatewayEvent(namespace, s.slug, publicKey);
    if (value === undefined) delete body[field];
    else body[field] = value;
    const res = await report(client, body);
    try {
      expectValidation(res, field);
    } catch (err) {
      throw new Error(`${field}=${JSON.stringify(value)}: ${(err as Error).message}`);
    }
  }
  expect(await snapshot()).toBe(before);
});

test("malformed, non-object, oversize and nested bodies get their 4xx, never a 500", async () => {
  const before = await snapshot();
  const json = { "content-type": "application/json" };
  const raw = (body: string) =>
    client.request<UsageAccepted>("POST", "/v1/usage/events", body, json);
  expectError(await raw("{"), 400, "INVALID_JSON");
  expectError(await raw("[]"), 400, "VALIDATION_ERROR");
  expectError(await raw('"event"'), 400, "VALIDATION_ERROR");
  expectError(await raw("null"), 400, "VALIDATION_ERROR");
  expectError(await raw(""), 400, "VALIDATION_ERROR");
  expectError(await raw(`{"x":"${long(5000)}"}`), 413, "PAYLOAD_TOO_LARGE");
  expectError(await raw(`${"[".repeat(40)}${"]".repeat(40)}`), 400, "VALIDATION_ERROR");
  const deep = {
    ...gatewayEvent(namespace, s.slug, publicKey),
    extra: JSON.parse(`${"[".repeat(40)}${"]".repeat(40)}`),
  };
  expectError(await report(client, deep), 400, "VALIDATION_ERROR");
  expect(await snapshot()).toBe(before);
});

test("authentication comes before validation: a bad body without a key is 401", async () => {
  const anonymous = serviceClient(t, "");
  anonymous.bearer = null;
  expectError(await report(anonymous, { event_id: "" }), 401, "UNAUTHORIZED");
});
