import { describe, expect, test } from "bun:test";
import { ConfigError, flagName, loadConfig, parseDuration } from "../src/config.ts";

function configError(env: Record<string, string>, flags: Record<string, string> = {}): string {
  try {
    loadConfig(env, flags);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  test("defaults", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe("0.0.0.0");
    expect(c.databaseUrl).toMatch(/^file:.*\/data\/sigilum\.db$/);
    expect(c.embedded).toBe(true);
    expect(c.signup).toBe("open");
    expect(c.maxBodyBytes).toBe(65_536);
    expect(c.sessionIdleTtl).toBe(30 * 86_400_000);
    expect(c.sessionMaxTtl).toBe(90 * 86_400_000);
    expect(c.webhookAllowHttp).toBe(false);
    expect(c.publicUrl).toBeNull();
    expect(c.maxPendingClaims).toBe(100);
    expect(c.maxPendingClaimsPerNamespace).toBe(1000);
  });

  test("each bad value names its variable and the accepted values in one line", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ SIGILUM_PORT: "abc" }, /^SIGILUM_PORT: must be an integer between 0 and 65535/],
      [{ SIGILUM_PORT: "70000" }, /^SIGILUM_PORT:/],
      [{ SIGILUM_SIGNUP: "maybe" }, /^SIGILUM_SIGNUP: must be one of open, closed/],
      [{ SIGILUM_TRUST_PROXY: "sure" }, /^SIGILUM_TRUST_PROXY: must be true or false/],
      [{ SIGILUM_PUBLIC_URL: "registry.example.com" }, /^SIGILUM_PUBLIC_URL:/],
      [
        { SIGILUM_PUBLIC_URL: "https://x.example.com/path" },
        /^SIGILUM_PUBLIC_URL: must be an origin only/,
      ],
      [{ SIGILUM_DATABASE_URL: "postgres://x" }, /^SIGILUM_DATABASE_URL:/],
      [{ SIGILUM_SECRET_KEY: "c2hvcnQ=" }, /^SIGILUM_SECRET_KEY: must be 32 random bytes/],
      [{ SIGILUM_SESSION_IDLE_TTL: "forever" }, /^SIGILUM_SESSION_IDLE_TTL: must be a duration/],
      [
        { SIGILUM_WEBHOOK_ALLOWED_CIDRS: "10.0.0.0/8,banana" },
        /^SIGILUM_WEBHOOK_ALLOWED_CIDRS: .*banana/,
      ],
      [{ SIGILUM_MAX_BODY_BYTES: "-5" }, /^SIGILUM_MAX_BODY_BYTES:/],
      [{ SIGILUM_LOG_LEVEL: "loud" }, /^SIGILUM_LOG_LEVEL:/],
      [
        { SIGILUM_MAX_PENDING_CLAIMS_PER_NAMESPACE: "lots" },
        /^SIGILUM_MAX_PENDING_CLAIMS_PER_NAMESPACE: must be an integer/,
      ],
      [
        { SIGILUM_MAX_PENDING_CLAIMS_PER_NAMESPACE: "0" },
        /^SIGILUM_MAX_PENDING_CLAIMS_PER_NAMESPACE:/,
      ],
      [
        { SIGILUM_DATABASE_URL: "libsql://db.example.com" },
        /^SIGILUM_SECRET_KEY: is required with a remote database/,
      ],
      [
        { SIGILUM_SESSION_IDLE_TTL: "10d", SIGILUM_SESSION_MAX_TTL: "5d" },
        /^SIGILUM_SESSION_MAX_TTL:/,
      ],
    ];
    for (const [env, pattern] of cases) {
      const message = configError(env);
      expect(message).toMatch(pattern);
      expect(message).not.toContain("\n");
      expect(message).not.toContain("NaN");
    }
  });

  test("flags override the environment", () => {
    const c = loadConfig({ SIGILUM_PORT: "9000" }, { "--port": "9001", "--data-dir": "/tmp/x" });
    expect(c.port).toBe(9001);
    expect(c.dataDir).toBe("/tmp/x");
    expect(flagName("SIGILUM_DATABASE_URL")).toBe("--database-url");
    expect(configError({}, { "--port": "x" })).toMatch(/^SIGILUM_PORT:/);
  });

  test("remote database URLs with a secret key", () => {
    const key = Buffer.alloc(32, 7).toString("base64");
    const c = loadConfig({
      SIGILUM_DATABASE_URL: "libsql://db.example.com",
      SIGILUM_SECRET_KEY: key,
    });
    expect(c.embedded).toBe(false);
    expect(c.secretKey).toHaveLength(32);
    expect(
      loadConfig({ SIGILUM_DATABASE_URL: "http://127.0.0.1:8081", SIGILUM_SECRET_KEY: key })
        .embedded,
    ).toBe(false);
  });

  test("durations", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("5s")).toBe(5000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("7d")).toBe(604_800_000);
    expect(parseDuration("30")).toBe(30_000);
    expect(parseDuration("5 minutes")).toBeNull();
    expect(parseDuration("-1s")).toBeNull();
  });
});
