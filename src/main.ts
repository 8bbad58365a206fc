#!/usr/bin/env bun
import {
  CliError,
  type Command,
  expectPositionals,
  parseCommandArgs,
  UsageError,
} from "./cli/args.ts";
import { backupCommand } from "./cli/backup.ts";
import { identityInitCommand } from "./cli/identity.ts";
import { OWNER_USAGE, ownerCommands } from "./cli/owner.ts";
import { healthcheckCommand, migrateCommand, SETTINGS_HELP, serveCommand } from "./cli/serve.ts";
import { signCommand } from "./cli/sign.ts";
import { webhookVerifyCommand } from "./cli/webhook.ts";
import { ConfigError } from "./config.ts";
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

const FULL_HELP = `sigilum ${VERSION} — self-hosted authorization registry for AI agents

${COMMANDS_HELP}

${SETTINGS_HELP}`;

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

const COMMANDS: Record<string, Command | Group> = {
  serve: serveCommand,
  migrate: migrateCommand,
  backup: backupCommand,
  owner: { usage: OWNER_USAGE, commands: ownerCommands },
  identity: {
    usage: identityInitCommand.usage,
    commands: { init: identityInitCommand },
  },
  sign: signCommand,
  webhook: {
    usage: webhookVerifyCommand.usage,
    commands: { verify: webhookVerifyCommand },
  },
  healthcheck: healthcheckCommand,
  version: versionCommand,
};

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
  if (isHelp(first) || first === "help") return void console.log(FULL_HELP);
  if (first === "--version") return void console.log(VERSION);
  // No command, or flags first: serve (`sigilum --port 9000`).
  if (first === undefined || first.startsWith("-")) return runCommand(serveCommand, argv);
  const entry = COMMANDS[first];
  if (!entry) throw new UsageError(`unknown command ${first}`, COMMANDS_HELP);
  if (!("commands" in entry)) return runCommand(entry, rest);
  const [sub, ...subRest] = rest;
  if (isHelp(sub)) return void console.log(entry.usage);
  const command = sub === undefined ? undefined : entry.commands[sub];
  if (!command)
    throw new UsageError(
      sub === undefined ? `${first} needs a subcommand` : `unknown command ${first} ${sub}`,
      entry.usage,
    );
  return runCommand(command, subRest);
}

/** Usage only for usage errors; everything else is one line. */
function report(err: unknown): never {
  if (err instanceof UsageError) {
    console.error(`sigilum: ${err.message}\n\n${err.usage ?? COMMANDS_HELP}`);
    process.exit(2);
  }
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ");
  if (err instanceof ConfigError) {
    console.error(`sigilum: configuration error: ${oneLine(err.message)}`);
    process.exit(2);
  }
  console.error(`sigilum: ${oneLine((err as Error).message)}`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
}

dispatch(process.argv.slice(2)).catch(report);
