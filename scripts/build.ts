/**
 * Builds the single executable: `bun scripts/build.ts [--target bun-linux-arm64] [--outfile dist/sigilum]`.
 * The binary embeds the code, the assets it imports and the libSQL native addon, so it runs
 * with no Bun, Node or node_modules (operations.md §2).
 */
import { mkdirSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  hostLibsqlTarget,
  libsqlEntry,
  libsqlNativePlugin,
  libsqlTargetForBunTarget,
  requireNativePackage,
} from "./libsqlNativePlugin.ts";

const PROJECT_ROOT = resolve(import.meta.dir, "..");
const DEFAULT_ENTRY = "src/main.ts";
const DEFAULT_OUTFILE = "dist/sigilum";
const USAGE = `usage: bun scripts/build.ts [--target <bun-target>] [--outfile <path>]

  --target   Bun compile target, e.g. bun-linux-x64, bun-linux-arm64, bun-linux-x64-musl,
             bun-darwin-arm64 (default: this machine)
  --outfile  where to write the executable (default: ${DEFAULT_OUTFILE})`;

export interface BuildOptions {
  entry: string;
  outfile: string;
  /** A Bun compile target such as `bun-linux-arm64`; omitted = this machine. */
  target?: string;
}

export interface BuildResult {
  outfile: string;
  bytes: number;
  nativePackage: string;
}

/** The `@libsql/<platform>` package to embed for `target` (or for this machine). */
export function nativePackageFor(target: string | undefined): string {
  const libsqlIndex = libsqlEntry(PROJECT_ROOT);
  if (!libsqlIndex) throw new Error("libsql is not installed; run `npm install` first");
  const libsqlTarget = target ? libsqlTargetForBunTarget(target) : hostLibsqlTarget(libsqlIndex);
  return requireNativePackage(libsqlIndex, libsqlTarget);
}

export async function buildBinary(opts: BuildOptions): Promise<BuildResult> {
  const nativePackage = nativePackageFor(opts.target);
  const outfile = executablePath(opts.outfile, opts.target);
  mkdirSync(dirname(outfile), { recursive: true });
  const result = await Bun.build({
    entrypoints: [resolve(opts.entry)],
    compile: {
      outfile,
      ...(opts.target ? { target: opts.target as Bun.Build.CompileTarget } : {}),
      // A bunfig.toml in whatever directory the binary is started from must not change it.
      autoloadBunfig: false,
      // Nor may a stray .env there: configuration comes from the environment and flags only.
      autoloadDotenv: false,
    },
    // ESM so top-level await works; bytecode moves parsing to build time (faster start).
    format: "esm",
    bytecode: true,
    // Identifiers stay unminified: Elysia reads handlers' source (Function#toString) to
    // infer what they use, and readable names keep stack traces and logs useful.
    minify: { whitespace: true, syntax: true, identifiers: false },
    // Embedded in the binary (zstd) so stack traces point at src/; a copy lands next to it.
    sourcemap: "linked",
    plugins: [libsqlNativePlugin(nativePackage)],
    throw: false,
  });
  if (!result.success) {
    throw new Error(`bun build failed:\n${result.logs.map(describeLog).join("\n")}`);
  }
  return { outfile, bytes: statSync(outfile).size, nativePackage };
}

/** Bun appends `.exe` for Windows targets; return the path it will really write. */
function executablePath(outfile: string, target: string | undefined): string {
  const windows = target?.startsWith("bun-windows") && !outfile.endsWith(".exe");
  return resolve(windows ? `${outfile}.exe` : outfile);
}

function describeLog(log: BuildMessage | ResolveMessage): string {
  const where = log.position
    ? `${log.position.file}:${log.position.line}:${log.position.column}: `
    : "";
  return `  ${where}${log.message}`;
}

function parseCli(argv: string[]): BuildOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: "string" },
      outfile: { type: "string", default: DEFAULT_OUTFILE },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    entry: resolve(PROJECT_ROOT, DEFAULT_ENTRY),
    outfile: values.outfile,
    ...(values.target ? { target: values.target } : {}),
  };
}

async function main(): Promise<void> {
  let opts: BuildOptions;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (error) {
    console.error(`build: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  const started = performance.now();
  try {
    const built = await buildBinary(opts);
    const mib = (built.bytes / 1024 / 1024).toFixed(1);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `built ${built.outfile} (${mib} MiB, ${opts.target ?? "host"}, ${built.nativePackage}) in ${seconds}s`,
    );
  } catch (error) {
    console.error(`build: ${(error as Error).message}`);
    process.exit(1);
  }
}

if (import.meta.main) await main();
