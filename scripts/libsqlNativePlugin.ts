import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { BunPlugin } from "bun";

/**
 * `libsql` (the native driver behind `@libsql/client`'s `file:` mode) loads its addon with
 * `require(`@libsql/${target}`)`, which the bundler cannot follow, so a compiled binary
 * dies with "Cannot find module". This plugin rewrites that one call to a static
 * `require("@libsql/<platform>")` so Bun bundles the package and embeds its `.node` file.
 */

const LIBSQL_MODULE = /[\\/]node_modules[\\/]libsql[\\/](index|promise)\.js$/;
const COMPUTED_NATIVE_REQUIRE = /require\(`@libsql\/\$\{target\}`\)/g;

const OS_BY_BUN_OS: Record<string, string> = { linux: "linux", darwin: "darwin", windows: "win32" };
const BUN_TARGET =
  /^bun-(?<os>linux|darwin|windows)-(?<arch>x64|arm64|aarch64)(?:-(?:baseline|modern))?(?:-(?<libc>glibc|musl))?$/;

/** Where `libsql` is installed, as resolved from `fromDir` (the project root). */
export function libsqlEntry(fromDir: string): string | undefined {
  try {
    return Bun.resolveSync("libsql", fromDir);
  } catch {
    return undefined;
  }
}

/** libsql's name for a Bun compile target: `bun-linux-arm64` → `linux-arm64-gnu`. */
export function libsqlTargetForBunTarget(bunTarget: string): string {
  const match = BUN_TARGET.exec(bunTarget);
  const os = OS_BY_BUN_OS[match?.groups?.os ?? ""];
  if (!match?.groups || !os) {
    throw new Error(
      `unknown --target "${bunTarget}"; expected e.g. bun-linux-x64, bun-linux-arm64, bun-linux-x64-musl, bun-darwin-arm64, bun-windows-x64`,
    );
  }
  const { arch: rawArch, libc } = match.groups;
  const arch = rawArch === "aarch64" ? "arm64" : rawArch;
  if (os === "linux") return `linux-${arch}-${libc === "musl" ? "musl" : "gnu"}`;
  if (libc) throw new Error(`--target "${bunTarget}": a libc suffix only applies to Linux`);
  return os === "win32" ? `win32-${arch}-msvc` : `darwin-${arch}`;
}

interface NeonLoad {
  currentTarget(): string;
}
interface DetectLibc {
  familySync(): string | null;
  GLIBC: string;
  MUSL: string;
}

/**
 * libsql's name for this machine, decided exactly as `libsql/index.js` decides it at run
 * time: `@neon-rs/load`'s `currentTarget()`, then its detect-libc corrections.
 */
export function hostLibsqlTarget(libsqlIndex: string): string {
  const requireFromLibsql = createRequire(libsqlIndex);
  const { currentTarget } = requireFromLibsql("@neon-rs/load") as NeonLoad;
  const { familySync, GLIBC, MUSL } = requireFromLibsql("detect-libc") as DetectLibc;
  const target = currentTarget();
  const family = familySync();
  // Same workaround as libsql: Bun may report musl on a glibc system.
  if (family === GLIBC && target === "linux-x64-musl") return "linux-x64-gnu";
  if (family === GLIBC && target === "linux-arm64-musl") return "linux-arm64-gnu";
  if (family === MUSL && target === "linux-arm-gnueabihf") return "linux-arm-musleabihf";
  return target;
}

/**
 * Checks that `@libsql/<target>` exists for this libsql version and is installed next to
 * libsql, and returns the package name. Throws a message that says how to install it.
 */
export function requireNativePackage(libsqlIndex: string, libsqlTarget: string): string {
  const packageName = `@libsql/${libsqlTarget}`;
  const libsqlManifest = JSON.parse(
    readFileSync(join(dirname(libsqlIndex), "package.json"), "utf8"),
  );
  const published: Record<string, string> = libsqlManifest.optionalDependencies ?? {};
  const version = published[packageName];
  if (!version) {
    const known = Object.keys(published).join(", ");
    throw new Error(
      `libsql ${libsqlManifest.version} publishes no native module for "${libsqlTarget}" (it has: ${known})`,
    );
  }
  try {
    Bun.resolveSync(packageName, dirname(libsqlIndex));
  } catch {
    const [os, cpu, abi] = libsqlTarget.split("-");
    const libcFlag = abi === "musl" ? " --libc=musl" : abi === "gnu" ? " --libc=glibc" : "";
    throw new Error(
      [
        `the libSQL native module ${packageName}@${version} is not installed, so it cannot be embedded.`,
        "npm and bun only install the platform package of the machine they run on; for a cross",
        "build install the target's one first, e.g.:",
        `  npm install --os=${os} --cpu=${cpu}${libcFlag}   (or the same flags to bun install)`,
        `  npm install --no-save --force ${packageName}@${version}`,
      ].join("\n"),
    );
  }
  return packageName;
}

/** The Bun plugin: a static `require(nativePackage)` in place of libsql's computed one. */
export function libsqlNativePlugin(nativePackage: string): BunPlugin {
  return {
    name: "libsql-native",
    setup(build) {
      build.onLoad({ filter: LIBSQL_MODULE }, async ({ path }) => {
        const source = await Bun.file(path).text();
        const rewritten = source.replace(
          COMPUTED_NATIVE_REQUIRE,
          `require(${JSON.stringify(nativePackage)})`,
        );
        if (rewritten === source) {
          throw new Error(
            `libsql-native plugin: no \`require(\`@libsql/\${target}\`)\` in ${path}; libsql changed how it loads its addon, update scripts/libsqlNativePlugin.ts`,
          );
        }
        return { contents: rewritten, loader: "js" };
      });
    },
  };
}
