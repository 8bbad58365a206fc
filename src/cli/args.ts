/** Minimal flag parser: `--name value`, `--name=value`, `--flag` (boolean), positionals. */
export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string>;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], booleanFlags: string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    if (eq > 0) {
      flags[arg.slice(0, eq)] = arg.slice(eq + 1);
    } else if (booleanFlags.includes(arg)) {
      flags[arg] = "true";
    } else {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith("--"))
        throw new UsageError(`${arg} needs a value`);
      flags[arg] = value;
      i++;
    }
  }
  return { positionals, flags };
}
