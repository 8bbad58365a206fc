import { existsSync } from "node:fs";
import { flagName, isBooleanSetting, SETTINGS } from "../config.ts";
import { migrate } from "../db/migrate.ts";
import { embeddedDatabasePath, openStorage } from "../db/storage.ts";
import { type Command, expectPositionals, type Options, type Values } from "./args.ts";
import { configFrom, STORAGE_OPTIONS, storageFlags } from "./database.ts";
import { SETTINGS_HELP } from "./settingsHelp.ts";

// One flag per setting: `SIGILUM_DATA_DIR` → `--data-dir`.
const SERVE_OPTIONS: Options = Object.fromEntries(
  Object.values(SETTINGS).map((s) => [
    flagName(s.env).slice(2),
    { type: isBooleanSetting(s) ? "boolean" : "string" },
  ]),
);

function settingFlags(values: Values): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (name !== "help" && value !== undefined) flags[`--${name}`] = String(value);
  }
  return flags;
}

export const serveCommand: Command = {
  usage: `sigilum serve [--port N] [--host H] [--data-dir D] [--database-url U] …
  Start the HTTP server (the default command: plain \`sigilum [flags]\` does the same).
  SIGTERM/SIGINT stop it cleanly. \`sigilum serve --help\` lists every setting.`,
  details: SETTINGS_HELP,
  options: SERVE_OPTIONS,
  async run({ values, positionals }) {
    expectPositionals(positionals, []);
    // Loaded on demand: the app is most of the code, and other commands start faster without it.
    const { startServer } = await import("../app.ts");
    const server = await startServer(configFrom(settingFlags(values)));
    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.ctx.logger.info("shutting down", { signal });
      await server.close();
      process.exit(0);
    };
    process.on("SIGTERM", () => void shutdown("SIGTERM"));
    process.on("SIGINT", () => void shutdown("SIGINT"));
  },
};

export const migrateCommand: Command = {
  usage: `sigilum migrate [--data-dir D] [--database-url U]
  Apply pending database migrations and exit (the server also does this at start-up).
  Creates the embedded database when there is none yet, and says so.`,
  options: STORAGE_OPTIONS,
  async run({ values, positionals }) {
    expectPositionals(positionals, []);
    const config = configFrom(storageFlags(values));
    const path = embeddedDatabasePath(config);
    const where = path ?? config.databaseUrl.replace(/\?.*$/, "");
    const isNew = path !== null && !existsSync(path);
    const database = await openStorage(config);
    try {
      const applied = await migrate(database);
      if (isNew) console.log(`created a new database at ${where}; applied: ${applied.join(", ")}`);
      else if (applied.length > 0) console.log(`${where}: applied: ${applied.join(", ")}`);
      else console.log(`${where} is up to date`);
    } finally {
      database.close();
    }
  },
};
