import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Config } from "../config.ts";
import { openDatabase } from "../db/client.ts";

/** A consistent online copy of the embedded database (VACUUM INTO works while the server runs). */
export async function backupDatabase(config: Config, target: string): Promise<string> {
  if (!config.embedded) {
    throw new Error(
      "backup copies the embedded database; back up a libSQL server with its own tooling",
    );
  }
  const file = resolve(target);
  if (existsSync(file)) throw new Error(`${file} already exists; choose a new file name`);
  const database = await openDatabase(config);
  try {
    await database.client.execute({ sql: "VACUUM INTO ?", args: [file] });
  } finally {
    database.close();
  }
  return file;
}
