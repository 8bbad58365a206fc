import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningServer, startServer } from "../../src/app.ts";
import type { Clock } from "../../src/clock.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/http/logger.ts";
import type { Service, UserBody } from "./types.ts";

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(public ms = Date.parse("2026-03-04T12:00:00.000Z")) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface TestServer {
  url: string;
  origin: string;
  server: RunningServer;
  dataDir: string;
  logs: string[];
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  clock?: Clock;
  resolveHost?: (host: string) => Promise<string[]>;
  dataDir?: string;
}

/** A real server on an ephemeral loopback port with a real libSQL file in a temp dir. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "sigilum-test-"));
  const config = loadConfig({
    SIGILUM_HOST: "127.0.0.1",
    SIGILUM_PORT: "0",
    SIGILUM_DATA_DIR: dataDir,
    SIGILUM_LOG_LEVEL: "info",
    SIGILUM_LOG_FORMAT: "json",
    SIGILUM_RATE_LIMIT_AUTH: "10000",
    ...options.env,
  });
  const logs: string[] = [];
  const server = await startServer(config, {
    clock: options.clock,
    logger: createLogger("debug", "json", (line) => logs.push(line)),
    resolveHost: options.resolveHost ?? (async () => ["93.184.216.34"]),
  });
  return {
    url: server.url,
    origin: server.url,
    server,
    dataDir,
    logs,
    async close() {
      await server.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface JsonResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** An HTTP client that keeps the session cookie like a browser and sends our Origin on unsafe calls. */
export class ApiClient {
  cookie: string | null = null;
  bearer: string | null = null;

  constructor(
    readonly base: string,
    readonly origin: string | null = base,
  ) {}

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<JsonResponse<T>> {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined && typeof body !== "string") h["content-type"] ??= "application/json";
    if (this.cookie) h.cookie ??= `sigilum_session=${this.cookie}`;
    if (this.bearer) h.authorization ??= `Bearer ${this.bearer}`;
    if (this.origin && !["GET", "HEAD"].includes(method)) h.origin ??= this.origin;
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: h,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith("sigilum_session="));
    if (setCookie) {
      const value = setCookie.slice("sigilum_session=".length).split(";")[0]!;
      this.cookie = value === "" ? null : value;
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // non-JSON bodies (docs page) stay text
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get<T = unknown>(path: string, headers?: Record<string, string>) {
    return this.request<T>("GET", path, undefined, headers);
  }
  post<T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>("POST", path, body, headers);
  }
  patch<T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>("PATCH", path, body, headers);
  }
  put<T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>("PUT", path, body, headers);
  }
  delete<T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>("DELETE", path, body, headers);
  }
}

let counter = 0;

export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export const PASSWORD = "correct horse battery staple";

/** Signs up a fresh owner and returns a client holding their session. */
export async function signUp(t: TestServer, namespace = uniqueName("ns")) {
  const client = new ApiClient(t.url, t.origin);
  const email = `${namespace}@example.com`;
  const res = await client.post<UserBody>("/v1/auth/signup", {
    namespace,
    email,
    password: PASSWORD,
  });
  if (res.status !== 201)
    throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { client, namespace, email, user: res.body.user };
}

/** Signs up an owner and registers one service. */
export async function ownerWithService(t: TestServer) {
  const owner = await signUp(t);
  const res = await owner.client.post<Service>("/v1/services", {
    slug: uniqueName("svc"),
    name: "Service",
  });
  if (res.status !== 201)
    throw new Error(`service create failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...owner, service: res.body };
}
