import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isNotNull } from "drizzle-orm";
import { type Config, ConfigError } from "./config.ts";
import { createSecretBox, type SecretBox } from "./crypto.ts";
import type { Database } from "./db/client.ts";
import { webhooks } from "./db/schema.ts";
import { randomBytes } from "./ids.ts";

type KeyConfig = Pick<Config, "secretKey" | "dataDir">;

/** Where a generated master key lives: `<data dir>/secret.key` (0600). */
export function masterKeyFile(config: Pick<Config, "dataDir">): string {
  return join(config.dataDir, "secret.key");
}

function readKeyFile(file: string): Uint8Array | null {
  if (!existsSync(file)) return null;
  const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
  if (key.length !== 32) throw new ConfigError(`${file} does not hold a base64 32-byte key`);
  return new Uint8Array(key);
}

function generateKeyFile(file: string, dataDir: string): Uint8Array {
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  try {
    writeFileSync(file, `${Buffer.from(key).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    // Another instance on this data dir made one first: use theirs.
    if ((err as { code?: string }).code === "EEXIST") return readKeyFile(file)!;
    throw err;
  }
  chmodSync(file, 0o600);
  return key;
}

/** The key ids that webhook secrets in the database are sealed under. */
async function sealedKeyIds(database: Database): Promise<string[]> {
  const db = database.db;
  const current = await db.selectDistinct({ id: webhooks.secretKeyId }).from(webhooks);
  const previous = await db
    .selectDistinct({ id: webhooks.previousSecretKeyId })
    .from(webhooks)
    .where(isNotNull(webhooks.previousSecretKeyId));
  return [...new Set([...current, ...previous].map((row) => row.id as string))];
}

/**
 * The box for secrets at rest, under SIGILUM_SECRET_KEY or `<data dir>/secret.key`. A key is
 * generated only while no secret is sealed yet: a new key over existing secrets would make every
 * webhook unsignable, so a server missing the key that sealed them refuses to start instead.
 */
export async function openSecretBox(config: KeyConfig, database: Database): Promise<SecretBox> {
  const sealedUnder = await sealedKeyIds(database);
  const file = masterKeyFile(config);
  const key =
    config.secretKey ??
    readKeyFile(file) ??
    (sealedUnder.length === 0 ? generateKeyFile(file, config.dataDir) : null);
  const box = key ? createSecretBox(key) : null;
  const missing = sealedUnder.filter((id) => id !== box?.keyId);
  if (missing.length === 0 && box) return box;
  const ids = `master key id${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`;
  const have = box
    ? `this server's key (from ${config.secretKey ? "SIGILUM_SECRET_KEY" : file}) has id ${box.keyId}`
    : `SIGILUM_SECRET_KEY is not set and ${file} does not exist`;
  throw new ConfigError(
    `SIGILUM_SECRET_KEY: webhook secrets in the database are sealed under ${ids}, but ${have}; set SIGILUM_SECRET_KEY to that key or restore ${file} (\`sigilum backup\` writes it beside the copy as <file>.key). Refusing to start rather than lose every webhook secret.`,
  );
}
