/**
 * `sigilum sign` refuses URLs whose path has `.` or `..` segments: Bun resolves them before the
 * app sees the path, so `DELETE …/keys/..` would reach (and delete) the service itself.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, stderrLines } from "../helpers/cli.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { Service } from "../helpers/types.ts";

// Each test runs several real processes.
setDefaultTimeout(60_000);

describe("sigilum sign and dot segments", () => {
  let t: TestServer;
  let s: ServiceSetup;
  const home = mkdtempSync(join(tmpdir(), "sigilum-sign-"));
  beforeAll(async () => {
    t = await startTestServer();
    s = await ownerWithKey(t);
    const init = await runCli(["identity", "init", s.namespace, "--home", home]);
    if (init.code !== 0) throw new Error(init.stderr);
  });
  afterAll(async () => {
    await t.close();
    rmSync(home, { recursive: true, force: true });
  });

  test("a path with ., .., or their percent-encoded forms is refused before anything is sent", async () => {
    const base = `${t.url}/v1/services/${s.serviceId}`;
    for (const path of [
      "/keys/..",
      "/keys/../",
      "/keys/.",
      "/./keys",
      "/keys/%2e%2e",
      "/keys/%2E%2e",
      "/keys/.%2e",
      "/keys/%2e",
      "/keys/..?x=1",
      "/keys/..#frag",
      "\\..",
    ]) {
      const res = await runCli(["sign", "--home", home, "-X", "DELETE", `${base}${path}`]);
      expect({ path, code: res.code }).toEqual({ path, code: 2 });
      expect(stderrLines(res)).toHaveLength(1);
      expect(res.stderr).toContain("dot segment");
    }
    // Nothing reached the server: the service is still there.
    expect((await s.client.get<Service>(`/v1/services/${s.serviceId}`)).status).toBe(200);
  });

  test("dots inside a segment, in the query or in the host are fine", async () => {
    for (const url of [
      `${t.url}/v1/verify?namespace=${s.namespace}&service=${s.slug}&x=..`,
      `${t.url}/v1/verify/..x?namespace=a`,
      `${t.url}/v1/a.b/...`,
    ]) {
      const res = await runCli(["sign", "--dry-run", "--home", home, url]);
      expect({ url, code: res.code }).toEqual({ url, code: 0 });
    }
  });
});
