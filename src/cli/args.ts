import { type ParseArgsConfig, parseArgs } from "node:util";

/** A mistake in how the command was called: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    public usage?: string,
  ) {
    super(message);
  }
}

/** Anything else a command refuses: one line, no usage, exit 1 unless said otherwise. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export type Options = NonNullable<ParseArgsConfig["options"]>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  values: Values;
  positionals: string[];
}

/** One subcommand: its help text (first line = synopsis), its flags, and what it does. */
export interface Command {
  usage: string;
  /** Shown by --help after the usage, but not after a usage error (the settings table). */
  details?: string;
  options: Options;
  run(args: Parsed): Promise<void> | void;
}

const HELP: Options = { help: { type: "boolean", short: "h" } };
const TRUE = ["true", "1", "yes", "on"];
const FALSE = ["false", "0", "no", "off"];

/**
 * node:util parseArgs (strict), plus `--flag=true` / `--flag=false` for boolean flags, which
 * parseArgs alone refuses. Every parse error becomes a UsageError carrying `usage`.
 */
export function parseCommandArgs(argv: string[], options: Options, usage: string): Parsed {
  const all = { ...HELP, ...options };
  const explicitFalse: string[] = [];
  const args: string[] = [];
  for (const [i, arg] of argv.entries()) {
    if (arg === "--") {
      args.push(...argv.slice(i));
      break;
    }
    const match = /^--([^=]+)=(.*)$/s.exec(arg);
    if (!match || all[match[1]!]?.type !== "boolean") {
      args.push(arg);
      continue;
    }
    const [, name, value] = match as unknown as [string, string, string];
    if (TRUE.includes(value.toLowerCase())) args.push(`--${name}`);
    else if (FALSE.includes(value.toLowerCase())) explicitFalse.push(name);
    else throw new UsageError(`--${name} takes no value (or =true / =false)`, usage);
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      options: all,
      allowPositionals: true,
      strict: true,
    });
    for (const name of explicitFalse) (values as Values)[name] = false;
    return { values: values as Values, positionals };
  } catch (err) {
    const { code, message } = err as { code?: string; message: string };
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown)
      throw new UsageError(`unknown flag ${unknown[1]}`, usage);
    // parseArgs messages run over several lines (what is wrong, then a hint): keep one line.
    throw new UsageError(message.replace(/\s*\n\s*/g, " "), usage);
  }
}

export function stringValue(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

/** Exactly the named positionals, or a UsageError naming what is missing or extra. */
export function expectPositionals(positionals: string[], names: string[]): string[] {
  if (positionals.length < names.length)
    throw new UsageError(`missing ${names.slice(positionals.length).join(", ")}`);
  if (positionals.length > names.length)
    throw new UsageError(`unexpected argument ${JSON.stringify(positionals[names.length])}`);
  return positionals;
}
