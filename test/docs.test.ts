import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SETTINGS } from "../src/config.ts";

test("the README documents every configuration variable", () => {
  const readme = readFileSync(join(import.meta.dir, "../README.md"), "utf8");
  const missing = Object.values(SETTINGS)
    .map((s) => s.env)
    .filter((env) => !readme.includes(`\`${env}\``));
  expect(missing).toEqual([]);
});
