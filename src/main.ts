#!/usr/bin/env bun
import {
  CliError,
  type Command,
  expectPositionals,
  parseCommandArgs,
  UsageError,
} from "./cli/args.ts";
import { VERSION } from "./version.ts";

const COMMANDS_HELP = `Usage:
  sigilum [serve] [--port N] [--host H] [--data-dir D] …
                                 start the server (default command)
  sigilum migrate                apply pending migrations and exit
  sigilum backup <file>          consistent online copy of the embedded database, plus the
                                 master key beside it (<file>.key)
  sigilum owner create <namespace> --email <email>
                                 create an owner account (the way in when SIGILUM_SIGNUP=closed)
  sigilum owner reset-password <namespace|email>
                                 set a new password and end the owner's sessions
  sigilum identity init <namespace> [--home DIR] [--json] [--force]
                                 create an agent identity compatible with the Sigilum SDKs
  sigilum sign [curl-like options] <url>
                                 send a request signed as an agent
  sigilum webhook verify --secret S --header H --body-file F
                                 check a webhook signature the way a receiver would
  sigilum healthcheck            exit 0 when the local server answers /healthz
  sigilum version                print the version
  sigilum <command> --help       help for one command`;

interface Group {
  usage: string;
  commands: Record<string, Command>;
}

const versionCommand: Command = {
  usage: "sigilum version\n  Print the version.",
  options: {},
  run({ positionals }) {
    expectPositionals(positionals, []);
    console.log(VERSION);
  },
};

// Each command loads its module only when run: `version` and the Docker healthcheck stay small
// and fast, and no command pays for the app, the database driver or Argon2 it does not use.
const loadServe = async () => (await import("./cli/serve.ts")).serveCommand;

const COMMANDS: Record<string, () => Promise<Command | Group>> = {
  serve: loadServe,
  migrate: async () => (await import("./cli/serve.ts")).migrateCommand,
  backup: async () => (await import("./cli/backup.ts")).backupCommand,
  owner: async () => {
    const { OWNER_USAGE, ownerCommands } = await import("./cli/owner.ts");
    return { usage: OWNER_USAGE, commands: ownerCommands };
  },
  identity: async () => {
    const { identityInitCommand } = await import("./cli/identity.ts");
    return { usage: identityInitCommand.usage, commands: { init: identityInitCommand } };
  },
  sign: async () => (await import("./cli/sign.ts")).signCommand,
  webhook: async () => {
    const { webhookVerifyCommand } = await import("./cli/webhook.ts");
    return { usage: webhookVerifyCommand.usage, commands: { verify: webhookVerifyCommand } };
  },
  healthcheck: async () => (await import("./cli/healthcheck.ts")).healthcheckCommand,
  version: async () => versionCommand,
};

async function fullHelp(): Promise<string> {
  const { SETTINGS_HELP } = await import("./cli/settingsHelp.ts");
  return `sigilum ${VERSION} — self-hosted authorization registry for AI agents

${COMMANDS_HELP}

${SETTINGS_HELP}`;
}

const isHelp = (arg: string | undefined) => arg === "--help" || arg === "-h";

async function runCommand(command: Command, argv: string[]) {
  const parsed = parseCommandArgs(argv, command.options, command.usage);
  if (parsed.values.help === true) {
    console.log(command.details ? `${command.usage}\n\n${command.details}` : command.usage);
    return;
  }
  try {
    await command.run(parsed);
  } catch (err) {
    if (err instanceof UsageError) err.usage ??= command.usage;
    throw err;
  }
}

async function dispatch(argv: string[]) {
  const [first, ...rest] = argv;
  if (isHelp(first) || first === "help") return void console.log(await fullHelp());
  if (first === "--version") return void console.log(VERSION);
  // No command, or flags first: serve (`sigilum --port 9000`).
  if (first === undefined || first.startsWith("-")) return runCommand(await loadServe(), argv);
  const load = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!load) throw new UsageError(`unknown command ${first}`, COMMANDS_HELP);
  const entry = await load();
  if (!("commands" in entry)) return runCommand(entry, rest);
  const [sub, ...subRest] = rest;
  if (isHelp(sub)) return void console.log(entry.usage);
  const command =
    sub !== undefined && Object.hasOwn(entry.commands, sub) ? entry.commands[sub] : undefined;
  if (!command)
    throw new UsageError(
      sub === undefined ? `${first} needs a subcommand` : `unknown command ${first} ${sub}`,
      entry.usage,
    );
  return runCommand(command, subRest);
}

/** Usage only for usage errors; everything else is one line. */
async function report(err: unknown): Promise<never> {
  if (err instanceof UsageError) {
    console.error(`sigilum: ${err.message}\n\n${err.usage ?? COMMANDS_HELP}`);
    process.exit(2);
  }
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ");
  const { ConfigError } = await import("./config.ts");
  if (err instanceof ConfigError) {
    console.error(`sigilum: configuration error: ${oneLine(err.message)}`);
    process.exit(2);
  }
  console.error(`sigilum: ${oneLine((err as Error).message)}`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
}

dispatch(process.argv.slice(2)).catch(report);
