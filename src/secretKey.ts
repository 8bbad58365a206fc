import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "./config.ts";
import { randomBytes } from "./ids.ts";

/**
 * The master key for secrets at rest: SIGILUM_SECRET_KEY, or `<data dir>/secret.key` (0600),
 * generated on first start. Only embedded databases may use a generated key (config enforces it).
 */
export function loadMasterKey(config: Pick<Config, "secretKey" | "dataDir">): Uint8Array {
  if (config.secretKey) return config.secretKey;
  const file = join(config.dataDir, "secret.key");
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    if (key.length !== 32) throw new Error(`${file} does not hold a base64 32-byte key`);
    return new Uint8Array(key);
  }
  mkdirSync(config.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${Buffer.from(key).toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return key;
}
