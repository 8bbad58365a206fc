import { afterEach, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { listenNotices } from "../../src/http/listen.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

// operations.md §5: the start-up log names the address actually bound and the URL to open; it
// warns when listening beyond loopback with sign-up open. http-api.md §1.5: sign-in over plain
// http anywhere but loopback is a warning too.

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

function lines(server: TestServer): LogLine[] {
  return server.logs.map((line) => JSON.parse(line) as LogLine);
}

function listening(server: TestServer): LogLine {
  const found = lines(server).filter((l) => l.msg === "listening");
  expect(found).toHaveLength(1);
  return found[0]!;
}

function warnings(server: TestServer): string[] {
  return lines(server)
    .filter((l) => l.level === "warn")
    .map((l) => l.msg);
}

describe("the start-up log", () => {
  test("a wildcard bind logs 0.0.0.0:<port>, says to open http://localhost:<port>, and warns twice", async () => {
    t = await startTestServer({ env: { SIGILUM_HOST: "0.0.0.0" } });
    const port = t.server.port;
    const line = listening(t);
    expect(line.address).toBe(`0.0.0.0:${port}`);
    expect(line.url).toBe(`http://localhost:${port}`);
    expect(JSON.stringify(line)).not.toContain("127.0.0.1");
    const warned = warnings(t);
    expect(warned).toHaveLength(2);
    expect(warned.find((w) => w.includes("SIGILUM_SIGNUP=closed"))).toContain(
      "sign-up is open to anyone who can reach",
    );
    expect(warned.find((w) => w.includes("plain http"))).toContain("SIGILUM_PUBLIC_URL=https://");
    // The URL still works from this machine.
    expect((await fetch(`http://localhost:${port}/healthz`)).status).toBe(200);
  });

  test("a loopback bind logs 127.0.0.1:<port> and the localhost URL, and warns about nothing", async () => {
    t = await startTestServer();
    const port = t.server.port;
    const line = listening(t);
    expect(line.address).toBe(`127.0.0.1:${port}`);
    expect(line.url).toBe(`http://localhost:${port}`);
    expect(warnings(t)).toEqual([]);
  });

  test("behind https with sign-up closed: the public URL to open, no warnings", async () => {
    t = await startTestServer({
      env: {
        SIGILUM_HOST: "0.0.0.0",
        SIGILUM_PUBLIC_URL: "https://registry.example.com",
        SIGILUM_SIGNUP: "closed",
      },
    });
    const line = listening(t);
    expect(line.address).toBe(`0.0.0.0:${t.server.port}`);
    expect(line.url).toBe("https://registry.example.com");
    expect(warnings(t)).toEqual([]);
  });

  test("an http public URL on a LAN name is still plain-http sign-in: warned", async () => {
    t = await startTestServer({
      env: {
        SIGILUM_HOST: "0.0.0.0",
        SIGILUM_PUBLIC_URL: "http://sigilum-vm.lan:8080",
        SIGILUM_SIGNUP: "closed",
      },
    });
    expect(listening(t).url).toBe("http://sigilum-vm.lan:8080");
    const warned = warnings(t);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toContain("plain http");
  });
});

describe("listenNotices (what the log says, for binds a test cannot make)", () => {
  const config = (env: Record<string, string>) =>
    loadConfig({ SIGILUM_DATA_DIR: "/tmp/sigilum-listen-notices", ...env });

  test("a specific LAN address is both the address and the URL; IPv6 is bracketed", () => {
    const v4 = listenNotices(config({}), { address: "192.168.1.20", port: 8080 });
    expect(v4.address).toBe("192.168.1.20:8080");
    expect(v4.url).toBe("http://192.168.1.20:8080");
    expect(v4.warnings).toHaveLength(2);
    const v6 = listenNotices(config({}), { address: "fd00::5", port: 8080 });
    expect(v6.address).toBe("[fd00::5]:8080");
    expect(v6.url).toBe("http://[fd00::5]:8080");
  });

  test(":: and ::1 open on localhost; loopback binds never warn", () => {
    expect(listenNotices(config({}), { address: "::", port: 9000 }).url).toBe(
      "http://localhost:9000",
    );
    const v6Loopback = listenNotices(config({}), { address: "::1", port: 9000 });
    expect(v6Loopback.address).toBe("[::1]:9000");
    expect(v6Loopback.url).toBe("http://localhost:9000");
    expect(v6Loopback.warnings).toEqual([]);
  });

  test("behind a trusted proxy the scheme is the proxy's, so only the sign-up warning remains", () => {
    const notices = listenNotices(config({ SIGILUM_TRUST_PROXY: "true" }), {
      address: "0.0.0.0",
      port: 8080,
    });
    expect(notices.warnings).toHaveLength(1);
    expect(notices.warnings[0]).toContain("SIGILUM_SIGNUP=closed");
  });
});
