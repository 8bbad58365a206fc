import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Config } from "../config.ts";
import { masterKeyFile } from "../secretKey.ts";
import { CliError, type Command, expectPositionals } from "./args.ts";
import { configFrom, openExistingDatabase, STORAGE_OPTIONS, storageFlags } from "./database.ts";

/**
 * A consistent online copy of the embedded database (VACUUM INTO works while the server runs),
 * plus the master key beside it (`<file>.key`, 0600) when the key lives in the data dir: without
 * it a restored server could not decrypt a single webhook secret. Returns the lines to print.
 */
export async function backupDatabase(config: Config, target: string): Promise<string[]> {
  if (!config.embedded) {
    throw new CliError(
      "backup copies the embedded database; back up a libSQL server with its own tooling",
    );
  }
  const file = resolve(target);
  const keyFile = `${file}.key`;
  const masterKey = masterKeyFile(config);
  const copyKey = !config.secretKey && existsSync(masterKey);
  for (const path of copyKey ? [file, keyFile] : [file]) {
    if (existsSync(path)) throw new CliError(`${path} already exists; choose a new file name`);
  }
  const database = await openExistingDatabase(config);
  try {
    await database.client.execute({ sql: "VACUUM INTO ?", args: [file] });
  } finally {
    database.close();
  }
  const lines = [`backup written to ${file}`];
  if (copyKey) {
    writeFileSync(keyFile, readFileSync(masterKey), { mode: 0o600, flag: "wx" });
    chmodSync(keyFile, 0o600); // whatever the umask
    lines.push(
      `master key written to ${keyFile} (0600); restore it as secret.key beside the database, or webhook secrets cannot be decrypted`,
    );
  } else if (config.secretKey) {
    lines.push(
      "the master key comes from SIGILUM_SECRET_KEY: keep that value with the backup, or webhook secrets cannot be decrypted",
    );
  }
  return lines;
}

export const backupCommand: Command = {
  usage: `sigilum backup <file> [--data-dir D]
  Write a consistent copy of the embedded database to <file> (VACUUM INTO, safe while the
  server runs) and, when the master key lives in the data dir, the key to <file>.key (0600):
  restore both (the key as secret.key), or webhook secrets cannot be decrypted.
  Refuses when there is no database where it looks, or when a target file exists.`,
  options: STORAGE_OPTIONS,
  async run({ values, positionals }) {
    const [file] = expectPositionals(positionals, ["<file>"]);
    for (const line of await backupDatabase(configFrom(storageFlags(values)), file!))
      console.log(line);
  },
};
