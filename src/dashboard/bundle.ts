/**
 * A Bun macro: `bundleDashboard()` runs at transpile time, so both `bun src/main.ts` and
 * `bun build --compile` inline the bundled dashboard as string literals — one mechanism, no
 * separate build step, and the compiled binary carries the assets with it.
 */
import { resolve } from "node:path";
import type { BuiltFile } from "./build.ts";

export interface DashboardBundle {
  files: BuiltFile[];
}

export function bundleDashboard(): DashboardBundle {
  const script = resolve(import.meta.dir, "build.ts");
  const run = Bun.spawnSync([process.execPath, script], {
    cwd: resolve(import.meta.dir, "../.."),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" },
  });
  if (!run.success) throw new Error(run.stderr.toString() || "dashboard build failed");
  return { files: JSON.parse(run.stdout.toString()) as BuiltFile[] };
}
