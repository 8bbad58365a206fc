/**
 * Writes /openapi.json (to the path given, else stdout) without starting anything: the app is
 * built in-process from a context that only carries configuration (building the routes touches
 * no storage). `npm run check:openapi` lints it and type-checks a client generated from it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { buildApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import type { AppContext } from "../src/context.ts";
import { openApiOf } from "../src/docs/index.ts";
import { createLogger } from "../src/http/logger.ts";

/** The app's routes and its OpenAPI description, for this script and the tests. */
export function specOfApp(env: Record<string, string> = {}) {
  const config = loadConfig({ SIGILUM_DATA_DIR: "/nonexistent", ...env });
  const ctx = { config, logger: createLogger("error", "json", () => {}) } as unknown as AppContext;
  const app = buildApp(ctx);
  return { routes: app.routes, spec: openApiOf(app, config.publicUrl) };
}

if (import.meta.main) {
  const json = `${JSON.stringify(specOfApp().spec, null, 2)}\n`;
  const out = process.argv[2];
  if (!out) process.stdout.write(json);
  else {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, json);
  }
}
