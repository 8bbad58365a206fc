#!/usr/bin/env bun
import { startServer } from "./app.ts";
import { parseArgs, UsageError } from "./cli/args.ts";
import { backupDatabase } from "./cli/backup.ts";
import { identityInit } from "./cli/identity.ts";
import { createOwnerCommand } from "./cli/owner.ts";
import { parseSignArgs, SIGN_USAGE, signAndSend } from "./cli/sign.ts";
import { WEBHOOK_VERIFY_USAGE, webhookVerify } from "./cli/webhook.ts";
import { type Config, ConfigError, flagName, loadConfig, SETTINGS } from "./config.ts";
import { openDatabase } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import { VERSION } from "./version.ts";

const USAGE = `sigilum ${VERSION} — self-hosted authorization registry for AI agents

Usage:
  sigilum [serve] [--port N] [--host H] [--data-dir D] [--database-url U] …
                                 start the server (default command)
  sigilum migrate                apply pending migrations and exit
  sigilum backup <file>          consistent online copy of the embedded database
  sigilum owner create <namespace> --email <email>
                                 create an owner account (password from SIGILUM_OWNER_PASSWORD or stdin);
                                 the way in when SIGILUM_SIGNUP=closed
  sigilum identity init <namespace> [--home DIR] [--json] [--force]
                                 create an agent identity compatible with the Sigilum SDKs
  sigilum sign [curl-like args] <url>
                                 send a request signed as an agent (see sigilum sign --help)
  sigilum webhook verify --secret S --header H --body-file F
                                 check a webhook signature the way a receiver would
  sigilum healthcheck            exit 0 when the local server answers /healthz
  sigilum version                print the version
  sigilum <command> --help       help for one command

Every setting is an environment variable and a serve flag:
${Object.values(SETTINGS)
  .map(
    (s) =>
      `  ${s.env.padEnd(34)} ${flagName(s.env).padEnd(30)} ${s.help}${s.default ? ` (default ${s.default})` : ""}`,
  )
  .join("\n")}
`;

const HELP: Record<string, string> = {
  serve:
    "sigilum serve [flags]\n  Start the HTTP server. Flags mirror the SIGILUM_* variables (see sigilum --help).",
  migrate: "sigilum migrate\n  Apply pending database migrations and exit.",
  backup:
    "sigilum backup <file>\n  Write a consistent copy of the embedded database to <file> (VACUUM INTO).",
  owner:
    "sigilum owner create <namespace> --email <email>\n  Create an owner account. The password is read from SIGILUM_OWNER_PASSWORD or the first line of stdin.",
  identity:
    "sigilum identity init <namespace> [--home DIR] [--json] [--force]\n  Create an agent key pair and certificate at $SIGILUM_HOME/identities/<namespace>/identity.json (0600).",
  sign: SIGN_USAGE,
  webhook: WEBHOOK_VERIFY_USAGE,
  healthcheck:
    "sigilum healthcheck\n  GET http://127.0.0.1:$SIGILUM_PORT/healthz; exit 0 if it answers 200 (for Docker HEALTHCHECK).",
  version: "sigilum version\n  Print the version.",
};

function configFrom(flags: Record<string, string>): Config {
  const known = new Set(Object.values(SETTINGS).map((s) => flagName(s.env)));
  for (const flag of Object.keys(flags)) {
    if (flag !== "--help" && !known.has(flag)) throw new UsageError(`unknown flag ${flag}`);
  }
  return loadConfig(process.env, flags, Boolean(process.stderr.isTTY));
}

async function serve(flags: Record<string, string>) {
  const server = await startServer(configFrom(flags));
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
}

async function runMigrate(flags: Record<string, string>) {
  const database = await openDatabase(configFrom(flags));
  try {
    const applied = await migrate(database);
    console.log(applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
  } finally {
    database.close();
  }
}

async function healthcheck() {
  const port = process.env.SIGILUM_PORT ?? "8080";
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(3000),
    });
    process.exit(res.ok ? 0 : 1);
  } catch {
    process.exit(1);
  }
}

async function sign(argv: string[]) {
  if (argv.includes("--help")) return void console.log(SIGN_USAGE);
  const { output, ok } = await signAndSend(parseSignArgs(argv));
  console.log(output);
  if (!ok) process.exitCode = 1;
}

async function dispatch(argv: string[]) {
  // `sign` takes curl-style flags (-X, -d, -H), parsed by its own parser.
  if (argv[0] === "sign") return sign(argv.slice(1));
  const { positionals, flags } = parseArgs(argv, ["--help", "--json", "--force"]);
  const command = positionals[0] ?? "serve";
  if (command === "help" || (positionals.length === 0 && flags["--help"]))
    return void console.log(USAGE);
  if (flags["--help"]) {
    const help = HELP[command];
    if (!help) throw new UsageError(`unknown command ${command}`);
    return void console.log(help);
  }
  switch (command) {
    case "serve":
      return serve(flags);
    case "migrate":
      return runMigrate(flags);
    case "backup": {
      if (!positionals[1])
        throw new UsageError("backup needs a target file: sigilum backup <file>");
      console.log(`backup written to ${await backupDatabase(configFrom(flags), positionals[1])}`);
      return;
    }
    case "owner": {
      if (positionals[1] !== "create")
        throw new UsageError("usage: sigilum owner create <namespace> --email <email>");
      const { "--email": email, ...rest } = flags;
      console.log(await createOwnerCommand(configFrom(rest), positionals[2], email));
      return;
    }
    case "identity": {
      if (positionals[1] !== "init")
        throw new UsageError("usage: sigilum identity init <namespace>");
      console.log(await identityInit(positionals[2], flags));
      return;
    }
    case "webhook": {
      if (positionals[1] !== "verify") throw new UsageError(WEBHOOK_VERIFY_USAGE);
      const { ok, message } = webhookVerify(flags);
      console.log(message);
      if (!ok) process.exitCode = 1;
      return;
    }
    case "healthcheck":
      return healthcheck();
    case "version":
      return void console.log(VERSION);
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

dispatch(process.argv.slice(2).map((a) => (a === "-h" ? "--help" : a))).catch((err) => {
  if (err instanceof UsageError) {
    console.error(`sigilum: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (err instanceof ConfigError) {
    console.error(`sigilum: configuration error: ${err.message}`);
    process.exit(2);
  }
  console.error(`sigilum: ${(err as Error).message}`);
  process.exit(1);
});
