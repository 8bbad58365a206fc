/**
 * SDK-compatible identity files (signing.md §7): `$SIGILUM_HOME/identities/<ns>/identity.json`,
 * directory 0700, file 0600, so our CLI and the official SDKs can share one identity.
 */
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { AgentCertificate } from "./certificate.ts";
import {
  asCertificate,
  decodeCertificate,
  encodeCertificate,
  verifyCertificate,
} from "./certificate.ts";
import { publicKeyFromSeed } from "./ed25519.ts";
import { fromBase64Strict, toBase64 } from "./encoding.ts";
import { didFor, isValidNamespace, keyIdFor, toCanonicalKey } from "./keys.ts";
import type { SigningIdentity } from "./sign.ts";

/** The on-disk JSON, field for field as the SDKs write it. */
export interface IdentityFile {
  version: 1;
  namespace: string;
  did: string;
  keyId: string;
  publicKey: string;
  /** Standard base64 of the 32-byte seed. */
  privateKey: string;
  /** The certificate object (not the header encoding). */
  certificate: AgentCertificate;
  createdAt: string;
  updatedAt: string;
}

export interface LoadedIdentity extends SigningIdentity {
  did: string;
  path: string;
  createdAt: string;
  updatedAt: string;
}

export interface IdentityFileOptions {
  /** Defaults to `sigilumHome()`. */
  home?: string;
  /** Milliseconds; stamps `updatedAt` and checks certificate expiry. */
  now?: number;
}

export function sigilumHome(env: Record<string, string | undefined> = process.env): string {
  return env.SIGILUM_HOME || join(homedir(), ".sigilum");
}

/** Namespaces are validated first: the name becomes a directory, so `../x` must never pass. */
export function identityFilePath(namespace: string, home: string = sigilumHome()): string {
  if (!isValidNamespace(namespace)) throw new Error(`invalid namespace: ${namespace}`);
  return join(home, "identities", namespace, "identity.json");
}

/** Writes atomically (temp file + rename); keeps `createdAt` of an identity file already there. */
export async function saveIdentity(
  identity: SigningIdentity,
  options: IdentityFileOptions = {},
): Promise<string> {
  const path = identityFilePath(identity.namespace, options.home);
  const certificate = decodeCertificate(identity.certificate);
  if (certificate === null) throw new Error("identity certificate is not a valid header value");
  const now = new Date(options.now ?? Date.now()).toISOString();
  const record: IdentityFile = {
    version: 1,
    namespace: identity.namespace,
    did: didFor(identity.namespace),
    keyId: identity.keyId,
    publicKey: identity.publicKey,
    privateKey: toBase64(identity.privateKeySeed),
    certificate,
    createdAt: (await existingCreatedAt(path)) ?? now,
    updatedAt: now,
  };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await chmod(dirname(path), 0o700);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
  return path;
}

/** Reads and fully validates; any inconsistency throws an Error naming the file and the fault. */
export async function loadIdentity(
  namespace: string,
  options: IdentityFileOptions = {},
): Promise<LoadedIdentity> {
  const path = identityFilePath(namespace, options.home);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new Error(`cannot read identity file ${path}: ${(error as Error).message}`);
  }
  try {
    return { ...(await identityFromJson(json, namespace, options.now ?? Date.now())), path };
  } catch (error) {
    throw new Error(`invalid identity file ${path}: ${(error as Error).message}`);
  }
}

async function identityFromJson(
  json: unknown,
  namespace: string,
  now: number,
): Promise<Omit<LoadedIdentity, "path">> {
  const record = asRecord(json);
  if (record.version !== 1) throw new Error("version must be 1");
  if (record.namespace !== namespace) throw new Error(`namespace is not ${namespace}`);
  if (record.did !== didFor(namespace)) throw new Error(`did is not ${didFor(namespace)}`);
  const seed = fromBase64Strict(stringField(record, "privateKey"));
  if (seed === null || seed.length !== 32)
    throw new Error("privateKey is not a base64 32-byte seed");
  const raw = await publicKeyFromSeed(seed);
  if (record.publicKey !== toCanonicalKey(raw))
    throw new Error("publicKey does not match privateKey");
  if (record.keyId !== keyIdFor(namespace, raw)) throw new Error("keyId does not match the key");
  const certificate = await checkedCertificate(record, now);
  return {
    namespace,
    did: record.did,
    keyId: record.keyId,
    publicKey: record.publicKey,
    privateKeySeed: seed,
    certificate: encodeCertificate(certificate),
    createdAt: stringField(record, "createdAt"),
    updatedAt: stringField(record, "updatedAt"),
  };
}

/** The certificate must verify and describe exactly this record's identity. */
async function checkedCertificate(
  record: Record<string, unknown>,
  now: number,
): Promise<AgentCertificate> {
  const certificate = asCertificate(record.certificate);
  if (certificate === null) throw new Error("certificate is malformed");
  const check = await verifyCertificate(certificate, now);
  if (!check.ok) throw new Error(check.reason);
  for (const field of ["namespace", "did", "keyId", "publicKey"] as const) {
    if (certificate[field] !== record[field]) throw new Error(`certificate ${field} differs`);
  }
  return certificate;
}

async function existingCreatedAt(path: string): Promise<string | null> {
  try {
    const existing = asRecord(JSON.parse(await readFile(path, "utf8")));
    return typeof existing.createdAt === "string" ? existing.createdAt : null;
  } catch {
    return null;
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error("not a JSON object");
  return value as Record<string, unknown>;
}

function stringField(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== "string" || value === "") throw new Error(`${field} must be a string`);
  return value;
}
