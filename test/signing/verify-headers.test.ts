/** §5 steps 1–2: required headers, duplicates, strict signature-input / signature parsing. */
import { describe, expect, test } from "bun:test";
import type { SignatureErrorCode } from "../../src/signing/index.ts";
import type { SignedFixture } from "./support.ts";
import { signedFixture, verifyFixture } from "./support.ts";

const REQUIRED = [
  "signature-input",
  "signature",
  "sigilum-namespace",
  "sigilum-subject",
  "sigilum-agent-key",
  "sigilum-agent-cert",
];

async function expectCode(fixture: SignedFixture, code: SignatureErrorCode, message?: RegExp) {
  const result = await verifyFixture(fixture);
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.code).toBe(code);
  expect(result.status).toBe(401);
  if (message) expect(result.message).toMatch(message);
}

async function withHeader(name: string, value: string): Promise<SignedFixture> {
  const fixture = await signedFixture();
  fixture.headers.set(name, value);
  return fixture;
}

test("a correctly signed request verifies", async () => {
  expect((await verifyFixture(await signedFixture())).ok).toBe(true);
});

describe("step 1: required headers", () => {
  test.each(REQUIRED)("missing %s → SIGNATURE_MISSING", async (name) => {
    const fixture = await signedFixture();
    fixture.headers.delete(name);
    await expectCode(fixture, "SIGNATURE_MISSING", new RegExp(name));
  });

  test.each(REQUIRED)("blank %s → SIGNATURE_MISSING", async (name) => {
    await expectCode(await withHeader(name, "   "), "SIGNATURE_MISSING", new RegExp(name));
  });

  test("a missing header wins over a malformed one", async () => {
    const fixture = await withHeader("signature-input", "garbage");
    fixture.headers.delete("sigilum-agent-cert");
    await expectCode(fixture, "SIGNATURE_MISSING");
  });
});

describe("step 1: duplicated headers (joined by Headers with ', ')", () => {
  const DETECTED = [
    "signature-input",
    "signature",
    "sigilum-namespace",
    "sigilum-agent-key",
    "sigilum-agent-cert",
  ];

  test.each(DETECTED)("repeated %s → SIGNATURE_INVALID", async (name) => {
    const fixture = await signedFixture();
    fixture.headers.append(name, fixture.headers.get(name)!);
    await expectCode(fixture, "SIGNATURE_INVALID", /duplicated/);
  });

  test("two different signature-input values are a duplicate, not a parse error", async () => {
    const fixture = await signedFixture();
    const other = fixture.headers.get("signature-input")!.replace("created=", "created=1");
    fixture.headers.append("signature-input", other);
    await expectCode(fixture, "SIGNATURE_INVALID", /duplicated signature-input/);
  });

  test.each(["sigilum-subject", "sigilum-agent-id"])(
    "repeated free-text %s changes the signed value → SIGNATURE_INVALID at step 9",
    async (name) => {
      const fixture = await signedFixture({ agentId: "agent-7" });
      fixture.headers.append(name, "intruder");
      await expectCode(fixture, "SIGNATURE_INVALID", /does not verify/);
    },
  );

  test("commas inside the quoted nonce are legitimate", async () => {
    const result = await verifyFixture(await signedFixture({ nonce: "a, b, sig1=(c)" }));
    expect(result.ok).toBe(true);
  });

  test("a subject containing ', ' is legitimate", async () => {
    const fixture = await signedFixture({ subject: "Doe, Jane" });
    const result = await verifyFixture(fixture);
    expect(result.ok && result.identity.subject).toBe("Doe, Jane");
  });
});

describe("step 2: signature-input is parsed strictly", () => {
  const valid = (fixture: SignedFixture) => fixture.headers.get("signature-input")!;
  const CASES: Array<[string, (value: string) => string]> = [
    ["two labels", (v) => `${v},sig2=${v.slice(5)}`],
    ["wrong label", (v) => `sig2=${v.slice(5)}`],
    [
      "params out of order",
      (v) => v.replace(/;created=(\d+);keyid=("[^"]*")/, ";keyid=$2;created=$1"),
    ],
    ["extra expires param", (v) => `${v};expires=1700000300`],
    ["expires between params", (v) => v.replace(";alg=", ";expires=1700000300;alg=")],
    ["tag param", (v) => `${v};tag="x"`],
    ["created not an integer", (v) => v.replace("created=1700000000", "created=1700000000.5")],
    ["created zero", (v) => v.replace("created=1700000000", "created=0")],
    ["created negative", (v) => v.replace("created=1700000000", "created=-1700000000")],
    ["created with leading zero", (v) => v.replace("created=1700000000", "created=01700000000")],
    ["created quoted", (v) => v.replace("created=1700000000", 'created="1700000000"')],
    ["nonce with a quote", (v) => v.replace(/nonce="[^"]*"/, 'nonce="ab"c"')],
    ["empty nonce", (v) => v.replace(/nonce="[^"]*"/, 'nonce=""')],
    ["empty keyid", (v) => v.replace(/keyid="[^"]*"/, 'keyid=""')],
    ["alg rsa", (v) => v.replace('alg="ed25519"', 'alg="rsa-v1_5-sha256"')],
    ["alg upper-case", (v) => v.replace('alg="ed25519"', 'alg="ED25519"')],
    ["components separated by two spaces", (v) => v.replace('"@method" ', '"@method"  ')],
    ["unquoted component", (v) => v.replace('"@method"', "@method")],
    ["spaces around params", (v) => v.replace(";created", "; created")],
    ["missing parentheses", (v) => v.replace("(", "").replace(")", "")],
  ];

  test.each(CASES)("%s → SIGNATURE_INVALID", async (_name, mutate) => {
    const fixture = await signedFixture();
    fixture.headers.set("signature-input", mutate(valid(fixture)));
    expect(fixture.headers.get("signature-input")).not.toBe(valid(await signedFixture()));
    await expectCode(fixture, "SIGNATURE_INVALID");
  });

  test("alg rsa is rejected with a clear reason", async () => {
    const fixture = await signedFixture();
    fixture.headers.set(
      "signature-input",
      valid(fixture).replace('"ed25519"', '"rsa-v1_5-sha256"'),
    );
    await expectCode(fixture, "SIGNATURE_INVALID", /alg must be ed25519/);
  });
});

describe("step 2: signature is sig1=:<base64 of 64 bytes>:", () => {
  const b64 = (length: number) => Buffer.alloc(length, 7).toString("base64");
  const CASES: Array<[string, string]> = [
    ["63 bytes", `sig1=:${b64(63)}:`],
    ["65 bytes", `sig1=:${b64(65)}:`],
    ["not base64", `sig1=:${"!".repeat(88)}:`],
    ["base64url alphabet", `sig1=:${Buffer.alloc(64, 0xfb).toString("base64url")}==:`],
    ["unpadded", `sig1=:${b64(64).replace(/=+$/, "")}:`],
    ["missing colons", `sig1=${b64(64)}`],
    ["missing trailing colon", `sig1=:${b64(64)}`],
    ["wrong label", `sig2=:${b64(64)}:`],
    ["empty", "sig1=::"],
  ];

  test.each(CASES)("%s → SIGNATURE_INVALID", async (_name, value) => {
    await expectCode(await withHeader("signature", value), "SIGNATURE_INVALID");
  });

  test("a well-formed but wrong signature fails at step 9", async () => {
    await expectCode(
      await withHeader("signature", `sig1=:${b64(64)}:`),
      "SIGNATURE_INVALID",
      /does not verify/,
    );
  });
});
