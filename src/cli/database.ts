import { type Config, loadConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import { databaseExists, embeddedDatabasePath, openStorage } from "../db/storage.ts";
import { CliError, type Options, type Values } from "./args.ts";

/** Reads the configuration from the environment, with `--flag` values taking precedence. */
export function configFrom(flags: Record<string, string>): Config {
  return loadConfig(process.env, flags, Boolean(process.stderr.isTTY));
}

/** The settings a command that works on the database takes as flags (the rest: environment). */
export const STORAGE_OPTIONS = {
  "data-dir": { type: "string" },
  "database-url": { type: "string" },
} as const satisfies Options;

export function storageFlags(values: Values): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const name of Object.keys(STORAGE_OPTIONS)) {
    const value = values[name];
    if (typeof value === "string") flags[`--${name}`] = value;
  }
  return flags;
}

/**
 * The database of a command that works on existing data (backup, owner …): refused, naming the
 * path looked at, when the file is not there — run from the wrong directory, such a command
 * would otherwise create and use an empty database.
 */
export async function openExistingDatabase(config: Config): Promise<Database> {
  if (!databaseExists(config)) {
    throw new CliError(
      `no database at ${embeddedDatabasePath(config)} (SIGILUM_DATA_DIR is ${config.dataDir}); point SIGILUM_DATA_DIR (or --data-dir) at the server's data, or create one with \`sigilum migrate\``,
      2,
    );
  }
  return openStorage(config, { create: false });
}
