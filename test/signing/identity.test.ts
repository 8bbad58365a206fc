/** SDK-compatible identity files (§7). */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  generateIdentity,
  identityFilePath,
  loadIdentity,
  saveIdentity,
  sigilumHome,
} from "../../src/signing/index.ts";
import { fixedIdentity, NOW_MS, signedFixture, verifyFixture } from "./support.ts";

/** sdks/test-vectors/identity-record-v1.json, as the official SDKs write it. */
const SDK_RECORD = {
  version: 1,
  namespace: "fixture-alice",
  did: "did:sigilum:fixture-alice",
  keyId: "did:sigilum:fixture-alice#ed25519-99fb00dc16ee555a",
  publicKey: "ed25519:J07dj/co4diCmQYTTQGq4adhnMKYejHazCYUQ7eBh0k=",
  privateKey: "ZMLKzZSCxP8QXOO1vlmejAvdFaesd3QC6JC9iCt8FfA=",
  certificate: {
    version: 1,
    namespace: "fixture-alice",
    did: "did:sigilum:fixture-alice",
    keyId: "did:sigilum:fixture-alice#ed25519-99fb00dc16ee555a",
    publicKey: "ed25519:J07dj/co4diCmQYTTQGq4adhnMKYejHazCYUQ7eBh0k=",
    issuedAt: "2026-02-20T18:04:26Z",
    expiresAt: null,
    proof: {
      alg: "ed25519",
      sig: "vGp-WLmSr0BWNci2lBhcJORg39ot-3Uu1aaVG2wGEKLItK_964hFaRrVd7DHf_2e3ykGpIacoM9Q5gs_tPy6Dw",
    },
    issuedBy: "sigilum.local-fixture",
  },
  createdAt: "2026-02-20T18:04:26Z",
  updatedAt: "2026-02-20T18:04:26Z",
  migrationHint: "v1-compatible",
};

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "sigilum-home-"));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

async function writeRecord(namespace: string, record: unknown): Promise<void> {
  const path = identityFilePath(namespace, home);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, typeof record === "string" ? record : JSON.stringify(record));
}

describe("paths", () => {
  test("SIGILUM_HOME, else ~/.sigilum", () => {
    expect(sigilumHome({ SIGILUM_HOME: "/x/y" })).toBe("/x/y");
    expect(sigilumHome({})).toBe(join(homedir(), ".sigilum"));
    expect(identityFilePath("acme", "/h")).toBe("/h/identities/acme/identity.json");
  });

  test.each(["../etc", "a/b", "ACME", "ab", ""])("namespace %p is refused", (namespace) => {
    expect(() => identityFilePath(namespace, home)).toThrow(/invalid namespace/);
  });
});

describe("save and load", () => {
  test("round-trips, with modes 0700 / 0600 and the SDK field set", async () => {
    const identity = await generateIdentity("acme", NOW_MS);
    const path = await saveIdentity(identity, { home, now: NOW_MS });
    expect(path).toBe(join(home, "identities", "acme", "identity.json"));
    expect((await stat(dirname(path))).mode & 0o777).toBe(0o700);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const json = JSON.parse(await readFile(path, "utf8"));
    expect(Object.keys(json)).toEqual([
      "version",
      "namespace",
      "did",
      "keyId",
      "publicKey",
      "privateKey",
      "certificate",
      "createdAt",
      "updatedAt",
    ]);
    expect(json.privateKey).toBe(Buffer.from(identity.privateKeySeed).toString("base64"));
    expect(typeof json.certificate).toBe("object");

    const loaded = await loadIdentity("acme", { home, now: NOW_MS });
    expect(loaded).toMatchObject({
      namespace: "acme",
      did: "did:sigilum:acme",
      keyId: identity.keyId,
      publicKey: identity.publicKey,
      certificate: identity.certificate,
      createdAt: "2023-11-14T22:13:20.000Z",
      path,
    });
    expect(loaded.privateKeySeed).toEqual(identity.privateKeySeed);
  });

  test("re-saving keeps createdAt and moves updatedAt", async () => {
    const identity = await fixedIdentity();
    await saveIdentity(identity, { home, now: NOW_MS });
    await saveIdentity(identity, { home, now: NOW_MS + 60_000 });
    const loaded = await loadIdentity("acme", { home, now: NOW_MS });
    expect(loaded.createdAt).toBe("2023-11-14T22:13:20.000Z");
    expect(loaded.updatedAt).toBe("2023-11-14T22:14:20.000Z");
  });

  test("an identity file written by the official SDK loads and signs verifiable requests", async () => {
    await writeRecord("fixture-alice", SDK_RECORD);
    const identity = await loadIdentity("fixture-alice", { home, now: NOW_MS });
    expect(identity.publicKey).toBe(SDK_RECORD.publicKey);
    const fixture = await signedFixture({ identity });
    const result = await verifyFixture(fixture);
    expect(result.ok && result.identity.namespace).toBe("fixture-alice");
  });
});

describe("tampered or broken files are rejected with a clear error", () => {
  const tamper = async (patch: Record<string, unknown>) => {
    await writeRecord("fixture-alice", { ...SDK_RECORD, ...patch });
    return loadIdentity("fixture-alice", { home, now: NOW_MS });
  };
  const other = "ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=";

  test.each([
    ["publicKey swapped", { publicKey: other }, /publicKey does not match privateKey/],
    [
      "privateKey swapped",
      { privateKey: Buffer.alloc(32, 1).toString("base64") },
      /publicKey does not match/,
    ],
    ["privateKey too short", { privateKey: Buffer.alloc(31).toString("base64") }, /32-byte seed/],
    ["keyId edited", { keyId: "did:sigilum:fixture-alice#ed25519-0000000000000000" }, /keyId/],
    ["did edited", { did: "did:sigilum:bob" }, /did is not/],
    ["namespace edited", { namespace: "bob" }, /namespace is not fixture-alice/],
    ["version 2", { version: 2 }, /version must be 1/],
    [
      "certificate proof edited",
      { certificate: { ...SDK_RECORD.certificate, issuedAt: "2026-02-21T00:00:00Z" } },
      /proof does not verify/,
    ],
    ["certificate missing", { certificate: undefined }, /certificate is malformed/],
    ["createdAt missing", { createdAt: undefined }, /createdAt/],
  ])("%s", async (_name, patch, reason) => {
    const error = await tamper(patch).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(
      /invalid identity file .*identities\/fixture-alice\/identity\.json/,
    );
    expect(error?.message).toMatch(reason);
  });

  test("not JSON", async () => {
    await writeRecord("acme", "{ not json");
    await expect(loadIdentity("acme", { home })).rejects.toThrow(/cannot read identity file/);
  });

  test("missing file", async () => {
    await expect(loadIdentity("acme", { home })).rejects.toThrow(
      /cannot read identity file .*acme/,
    );
  });
});
