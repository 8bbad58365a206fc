import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Cidr, parseCidrList } from "./net/index.ts";

/** Configuration is read once, validated, and frozen; a bad value stops the process with one line. */
export class ConfigError extends Error {}

type Parser<T> = (raw: string) => T;

interface Setting<T> {
  env: string;
  default: string | undefined;
  parse: Parser<T>;
  help: string;
}

function setting<T>(env: string, def: string | undefined, parse: Parser<T>, help: string) {
  return { env, default: def, parse, help } satisfies Setting<T>;
}

function fail(message: string): never {
  throw new Error(message);
}

const parseBool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off", ""].includes(v)) return false;
  return fail("must be true or false");
};

function parseInteger(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^\d+$/.test(raw.trim())) fail(`must be an integer between ${min} and ${max}`);
    const n = Number(raw.trim());
    if (n < min || n > max) fail(`must be an integer between ${min} and ${max}`);
    return n;
  };
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses `500ms`, `5s`, `5m`, `2h`, `30d`; a bare integer is seconds. Returns milliseconds. */
export function parseDuration(raw: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!m) return null;
  return Number(m[1]) * (DURATION_UNITS[m[2] ?? "s"] ?? 1000);
}

function durationSetting(minMs: number, maxMs: number): Parser<number> {
  return (raw) => {
    const ms = parseDuration(raw);
    if (ms === null || ms < minMs || ms > maxMs) {
      fail(
        `must be a duration like 30s, 5m, 2h or 7d, between ${minMs / 1000}s and ${maxMs / 1000}s`,
      );
    }
    return ms;
  };
}

function oneOf<T extends string>(...values: T[]): Parser<T> {
  return (raw) => {
    const v = raw.trim().toLowerCase() as T;
    if (!values.includes(v)) fail(`must be one of ${values.join(", ")}`);
    return v;
  };
}

const parseOptionalUrl: Parser<URL | null> = (raw) => {
  if (raw.trim() === "") return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return fail("must be an absolute http(s) URL such as https://registry.example.com");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") fail("must use http or https");
  if (url.pathname !== "/" || url.search || url.hash || url.username) {
    fail(
      "must be an origin only (scheme, host and optional port), with no path, query or credentials",
    );
  }
  return url;
};

const parseDatabaseUrl: Parser<string> = (raw) => {
  const v = raw.trim();
  if (!/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/)/.test(v) || v === "file:") {
    fail("must be a file: URL or a libsql://, https:// or http:// URL of a libSQL server");
  }
  return v;
};

const parseSecretKey: Parser<Uint8Array | null> = (raw) => {
  if (raw.trim() === "") return null;
  const bytes = Buffer.from(raw.trim(), "base64");
  if (bytes.length !== 32)
    fail("must be 32 random bytes encoded as base64 (e.g. `openssl rand -base64 32`)");
  return new Uint8Array(bytes);
};

const parseAllowedCidrs: Parser<Cidr[]> = (raw) => {
  const { cidrs, invalid } = parseCidrList(raw);
  if (invalid.length > 0)
    fail(`must be comma-separated CIDRs such as 10.0.0.0/8,fd00::/8; bad: ${invalid.join(", ")}`);
  return cidrs;
};

const parseText: Parser<string> = (raw) => raw;

const parseSchedule: Parser<number[]> = (raw) => {
  const delays = raw.split(",").map((part) => parseDuration(part));
  if (
    delays.length === 0 ||
    delays.length > 50 ||
    delays.some((d) => d === null || d < 1000 || d > 7 * DAY)
  ) {
    fail("must be comma-separated durations between 1s and 7d, e.g. 5s,5m,30m,2h,5h,10h,10h");
  }
  return delays as number[];
};

const parseOptionalFile: Parser<string | null> = (raw) => {
  if (raw.trim() === "") return null;
  if (!existsSync(raw.trim())) fail("must name a readable PEM file");
  return raw.trim();
};

const DAY = 86_400_000;

/** Every variable the server reads. Each is also a `serve` flag: SIGILUM_DATA_DIR → --data-dir. */
export const SETTINGS = {
  host: setting("SIGILUM_HOST", "0.0.0.0", parseText, "listen address"),
  port: setting("SIGILUM_PORT", "8080", parseInteger(0, 65535), "listen port (0 = any free port)"),
  dataDir: setting(
    "SIGILUM_DATA_DIR",
    "./data",
    parseText,
    "directory for the embedded database and key file",
  ),
  databaseUrl: setting(
    "SIGILUM_DATABASE_URL",
    undefined,
    parseDatabaseUrl,
    "file:, libsql://, https:// URL",
  ),
  databaseBusyTimeout: setting(
    "SIGILUM_DATABASE_BUSY_TIMEOUT",
    "5s",
    durationSetting(0, 60_000),
    "how long a statement waits for another process's lock on an embedded database before 503",
  ),
  databaseAuthToken: setting(
    "SIGILUM_DATABASE_AUTH_TOKEN",
    "",
    parseText,
    "token for a remote libSQL server",
  ),
  publicUrl: setting(
    "SIGILUM_PUBLIC_URL",
    "",
    parseOptionalUrl,
    "external origin, e.g. https://registry.example.com",
  ),
  trustProxy: setting("SIGILUM_TRUST_PROXY", "false", parseBool, "honour X-Forwarded-* headers"),
  secretKey: setting(
    "SIGILUM_SECRET_KEY",
    "",
    parseSecretKey,
    "base64 32-byte master key for secrets at rest",
  ),
  signup: setting("SIGILUM_SIGNUP", "open", oneOf("open", "closed"), "open or closed"),
  logLevel: setting(
    "SIGILUM_LOG_LEVEL",
    "info",
    oneOf("debug", "info", "warn", "error", "silent"),
    "log level",
  ),
  logFormat: setting("SIGILUM_LOG_FORMAT", undefined, oneOf("json", "pretty"), "json or pretty"),
  maxBodyBytes: setting(
    "SIGILUM_MAX_BODY_BYTES",
    "65536",
    parseInteger(1024, 16_777_216),
    "request body limit",
  ),
  sessionIdleTtl: setting(
    "SIGILUM_SESSION_IDLE_TTL",
    "30d",
    durationSetting(60_000, 365 * DAY),
    "session idle expiry",
  ),
  sessionMaxTtl: setting(
    "SIGILUM_SESSION_MAX_TTL",
    "90d",
    durationSetting(60_000, 3650 * DAY),
    "session absolute expiry",
  ),
  maxServicesPerOwner: setting(
    "SIGILUM_MAX_SERVICES_PER_OWNER",
    "50",
    parseInteger(1, 100_000),
    "services per owner",
  ),
  maxKeysPerService: setting(
    "SIGILUM_MAX_KEYS_PER_SERVICE",
    "10",
    parseInteger(1, 1000),
    "active API keys per service",
  ),
  maxWebhooksPerService: setting(
    "SIGILUM_MAX_WEBHOOKS_PER_SERVICE",
    "10",
    parseInteger(1, 1000),
    "webhooks per service",
  ),
  maxTokensPerOwner: setting(
    "SIGILUM_MAX_TOKENS_PER_OWNER",
    "50",
    parseInteger(1, 10_000),
    "personal access tokens per owner",
  ),
  rateLimitAuth: setting(
    "SIGILUM_RATE_LIMIT_AUTH",
    "10",
    parseInteger(1, 1_000_000),
    "sign-up/login attempts per minute per IP; login failures per 15 minutes per account and IP",
  ),
  rateLimitAuthAccount: setting(
    "SIGILUM_RATE_LIMIT_AUTH_ACCOUNT",
    "100",
    parseInteger(1, 1_000_000),
    "login failures per minute on one account from all unfamiliar addresses together",
  ),
  rateLimitDefault: setting(
    "SIGILUM_RATE_LIMIT_DEFAULT",
    "1200",
    parseInteger(1, 10_000_000),
    "owner requests per minute per session or token",
  ),
  signatureMaxAge: setting(
    "SIGILUM_SIGNATURE_MAX_AGE",
    "300s",
    durationSetting(1000, DAY),
    "oldest accepted agent signature",
  ),
  signatureMaxSkew: setting(
    "SIGILUM_SIGNATURE_MAX_SKEW",
    "30s",
    durationSetting(0, 3_600_000),
    "how far ahead a signer's clock may be",
  ),
  signatureNonceTtl: setting(
    "SIGILUM_SIGNATURE_NONCE_TTL",
    "600s",
    durationSetting(1000, 7 * DAY),
    "how long signature nonces are remembered (> max age + skew)",
  ),
  pendingClaimTtl: setting(
    "SIGILUM_PENDING_CLAIM_TTL",
    "7d",
    durationSetting(60_000, 365 * DAY),
    "pending claims expire after this",
  ),
  maxPendingClaims: setting(
    "SIGILUM_MAX_PENDING_CLAIMS",
    "100",
    parseInteger(1, 1_000_000),
    "pending claims per (namespace, service) before that service's new ones are auto-rejected",
  ),
  maxPendingClaimsPerNamespace: setting(
    "SIGILUM_MAX_PENDING_CLAIMS_PER_NAMESPACE",
    "1000",
    parseInteger(1, 10_000_000),
    "pending claims per namespace, all services together, before new ones are auto-rejected",
  ),
  cacheTtl: setting(
    "SIGILUM_CACHE_TTL",
    "2s",
    durationSetting(0, 60_000),
    "in-memory verify/API-key cache lifetime (other instances see revocations within it)",
  ),
  eventStreamsPerOwner: setting(
    "SIGILUM_EVENT_STREAMS_PER_OWNER",
    "5",
    parseInteger(1, 1000),
    "open live-update streams (GET /v1/namespaces/{ns}/events) per owner; more get 429",
  ),
  eventHeartbeat: setting(
    "SIGILUM_EVENT_HEARTBEAT",
    "15s",
    durationSetting(100, 300_000),
    "how often an idle live-update stream sends a `: heartbeat` comment",
  ),
  rateLimitClaims: setting(
    "SIGILUM_RATE_LIMIT_CLAIMS",
    "600",
    parseInteger(1, 10_000_000),
    "claim submissions per minute per API key",
  ),
  rateLimitVerify: setting(
    "SIGILUM_RATE_LIMIT_VERIFY",
    "60000",
    parseInteger(1, 100_000_000),
    "verify and feed requests per minute per API key",
  ),
  webhookTimeoutMs: setting(
    "SIGILUM_WEBHOOK_TIMEOUT_MS",
    "10000",
    parseInteger(100, 120_000),
    "total time for one delivery attempt, in ms",
  ),
  webhookRetrySchedule: setting(
    "SIGILUM_WEBHOOK_RETRY_SCHEDULE",
    "5s,5m,30m,2h,5h,10h,10h",
    parseSchedule,
    "delays between attempts (each ±20 % jitter); attempts = entries + 1",
  ),
  webhookDisableAfter: setting(
    "SIGILUM_WEBHOOK_DISABLE_AFTER",
    "5d",
    durationSetting(60_000, 365 * DAY),
    "disable a webhook that has failed without a success for this long",
  ),
  webhookLeaseMargin: setting(
    "SIGILUM_WEBHOOK_LEASE_MARGIN",
    "5s",
    durationSetting(100, 600_000),
    "how long a delivery's lease outlives its attempt timeout; a crashed process's deliveries are taken over after both",
  ),
  webhookSweepInterval: setting(
    "SIGILUM_WEBHOOK_SWEEP_INTERVAL",
    "5s",
    durationSetting(100, 60_000),
    "how often the delivery worker looks for due deliveries and expired leases",
  ),
  webhookConcurrency: setting(
    "SIGILUM_WEBHOOK_CONCURRENCY",
    "32",
    parseInteger(1, 1024),
    "deliveries in flight per process",
  ),
  webhookPerWebhookConcurrency: setting(
    "SIGILUM_WEBHOOK_PER_WEBHOOK_CONCURRENCY",
    "4",
    parseInteger(1, 256),
    "deliveries in flight per webhook per process",
  ),
  webhookRetention: setting(
    "SIGILUM_WEBHOOK_RETENTION",
    "30d",
    durationSetting(3_600_000, 3650 * DAY),
    "succeeded deliveries and all attempts older than this are pruned",
  ),
  usageRetention: setting(
    "SIGILUM_USAGE_RETENTION",
    "90d",
    durationSetting(3_600_000, 3650 * DAY),
    "usage events older than this are pruned",
  ),
  webhookCaFile: setting(
    "SIGILUM_WEBHOOK_CA_FILE",
    "",
    parseOptionalFile,
    "PEM file of extra CAs trusted for webhook TLS (private PKI, tests)",
  ),
  webhookAllowHttp: setting(
    "SIGILUM_WEBHOOK_ALLOW_HTTP",
    "false",
    parseBool,
    "allow http:// webhook URLs",
  ),
  webhookAllowPrivate: setting(
    "SIGILUM_WEBHOOK_ALLOW_PRIVATE",
    "false",
    parseBool,
    "allow private webhook targets",
  ),
  webhookAllowedCidrs: setting(
    "SIGILUM_WEBHOOK_ALLOWED_CIDRS",
    "",
    parseAllowedCidrs,
    "comma-separated CIDRs allowed as webhook targets",
  ),
} as const;

type Settings = typeof SETTINGS;
type Parsed = { [K in keyof Settings]: ReturnType<Settings[K]["parse"]> };

export interface Config extends Omit<Parsed, "databaseUrl" | "logFormat"> {
  databaseUrl: string;
  /** True when the database is an embedded file (the secret key may be generated locally). */
  embedded: boolean;
  logFormat: "json" | "pretty";
}

/** True for on/off settings: their serve flag needs no value (`--trust-proxy`). */
export function isBooleanSetting(s: { parse: unknown }): boolean {
  return s.parse === parseBool;
}

export function flagName(env: string): string {
  return `--${env
    .replace(/^SIGILUM_/, "")
    .toLowerCase()
    .replaceAll("_", "-")}`;
}

/** Reads `env` (with `flags` taking precedence) into a validated Config, or throws ConfigError. */
export function loadConfig(
  env: Record<string, string | undefined>,
  flags: Record<string, string> = {},
  isTty = false,
): Config {
  const parsed: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [keyof Settings, Setting<unknown>][]) {
    const raw = flags[flagName(s.env)] ?? env[s.env] ?? s.default;
    if (raw === undefined) continue;
    try {
      parsed[key] = s.parse(raw);
    } catch (err) {
      throw new ConfigError(`${s.env}: ${(err as Error).message} (got ${JSON.stringify(raw)})`);
    }
  }
  const dataDir = resolve(parsed.dataDir as string);
  const databaseUrl =
    (parsed.databaseUrl as string | undefined) ?? `file:${join(dataDir, "sigilum.db")}`;
  const embedded = databaseUrl.startsWith("file:");
  if (!embedded && parsed.secretKey === null) {
    throw new ConfigError(
      "SIGILUM_SECRET_KEY: is required with a remote database (all instances must share it); generate one with `openssl rand -base64 32`",
    );
  }
  if (
    (parsed.signatureNonceTtl as number) <=
    (parsed.signatureMaxAge as number) + (parsed.signatureMaxSkew as number)
  ) {
    throw new ConfigError(
      "SIGILUM_SIGNATURE_NONCE_TTL: must exceed SIGILUM_SIGNATURE_MAX_AGE + SIGILUM_SIGNATURE_MAX_SKEW, or a replay could outlive its nonce",
    );
  }
  if ((parsed.sessionMaxTtl as number) < (parsed.sessionIdleTtl as number)) {
    throw new ConfigError(
      "SIGILUM_SESSION_MAX_TTL: must not be shorter than SIGILUM_SESSION_IDLE_TTL",
    );
  }
  return Object.freeze({
    ...(parsed as Parsed),
    dataDir,
    databaseUrl,
    embedded,
    logFormat: (parsed.logFormat as "json" | "pretty" | undefined) ?? (isTty ? "pretty" : "json"),
  });
}
