import { existsSync, mkdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Config, ConfigError } from "../config.ts";
import { type Database, openDatabase, type Warn } from "./client.ts";

type StorageConfig = Pick<Config, "databaseUrl" | "databaseAuthToken" | "dataDir" | "embedded">;

/** The embedded database's file (absolute), or null for a libSQL server. */
export function embeddedDatabasePath(config: StorageConfig): string | null {
  if (!config.embedded) return null;
  const path = config.databaseUrl.slice("file:".length).split("?", 1)[0]!;
  return resolve(decodeURIComponent(path.startsWith("//") ? path.slice(2) : path));
}

/** Which setting a database failure is about: the data dir, unless the URL was set explicitly. */
function databaseSetting(config: StorageConfig): string {
  return config.databaseUrl === `file:${join(config.dataDir, "sigilum.db")}`
    ? "SIGILUM_DATA_DIR"
    : "SIGILUM_DATABASE_URL";
}

function errorCode(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? String(e.message).split("\n", 1)[0]!;
}

/** Creates the data dir and proves it writable, or stops with one line naming SIGILUM_DATA_DIR. */
function prepareDataDir(dataDir: string) {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    const code = errorCode(err);
    if (code === "EEXIST" || code === "ENOTDIR")
      throw new ConfigError(
        `SIGILUM_DATA_DIR: ${dataDir} is not a directory (a file is in the way)`,
      );
    throw new ConfigError(`SIGILUM_DATA_DIR: cannot create ${dataDir} (${code})`);
  }
  // Mode bits do not tell the whole story (root, read-only mounts): try it.
  const probe = join(dataDir, `.sigilum-write-check-${process.pid}`);
  try {
    writeFileSync(probe, "");
    unlinkSync(probe);
  } catch (err) {
    throw new ConfigError(`SIGILUM_DATA_DIR: ${dataDir} is not writable (${errorCode(err)})`);
  }
}

/**
 * Opens the database for a command or the server. With `create` (serve, migrate) the data dir is
 * made and checked first; every failure is one line naming the setting (operations.md §5).
 */
export async function openStorage(
  config: StorageConfig,
  options: { create: boolean; warn?: Warn } = { create: true },
): Promise<Database> {
  if (config.embedded && options.create) prepareDataDir(config.dataDir);
  const where = embeddedDatabasePath(config) ?? config.databaseUrl.replace(/\?.*$/, "");
  let database: Database | undefined;
  try {
    database = await openDatabase(config, { warn: options.warn });
    if (!config.embedded) await database.client.execute("SELECT 1");
    return database;
  } catch (err) {
    database?.close();
    throw new ConfigError(
      `${databaseSetting(config)}: cannot open the database at ${where}: ${String((err as Error).message).split("\n", 1)[0]}`,
    );
  }
}

/** True when the embedded database file exists (always true for a libSQL server). */
export function databaseExists(config: StorageConfig): boolean {
  const path = embeddedDatabasePath(config);
  return path === null || existsSync(path);
}
