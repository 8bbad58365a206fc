import { rootCertificates } from "node:tls";
import type { AppContext } from "../context.ts";
import { formatIp, type IpBytes, parseIp } from "../net/index.ts";
import { type AttemptResult, parseRetryAfter } from "./retryPolicy.ts";
import { checkAddress } from "./ssrfGuard.ts";

const RESPONSE_READ_LIMIT = 64 * 1024;
const EXCERPT_LIMIT = 1024;

export interface SendResult extends AttemptResult {
  durationMs: number;
  responseExcerpt: string | null;
}

type Pinned = { ok: true; address: IpBytes } | { ok: false; error: string };

const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,31}$/;

/** "dns_error", with the resolver's code when it gave one ("dns_error: ENOTFOUND"). */
function dnsError(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && ERROR_CODE.test(code) ? `dns_error: ${code}` : "dns_error";
}

/**
 * Resolves the host once and checks every address (webhooks.md §5); the attempt then connects to
 * the checked address itself, so a DNS answer that changes between check and connect
 * (rebinding) cannot redirect it.
 */
async function pinAddress(ctx: AppContext, hostname: string): Promise<Pinned> {
  const literal = parseIp(hostname);
  let addresses: IpBytes[];
  if (literal) {
    addresses = [literal];
  } else {
    try {
      addresses = (await ctx.resolveHost(hostname))
        .map((a) => parseIp(a))
        .filter((a): a is IpBytes => a !== null);
    } catch (err) {
      return { ok: false, error: dnsError(err) };
    }
  }
  if (addresses.length === 0) return { ok: false, error: "dns_error" };
  const policy = {
    allowPrivate: ctx.config.webhookAllowPrivate,
    allowedCidrs: ctx.config.webhookAllowedCidrs,
  };
  if (addresses.some((a) => checkAddress(a, policy) !== null))
    return { ok: false, error: "blocked_destination" };
  return { ok: true, address: addresses[0]! };
}

/**
 * The promise's value, or `{ok: false, error: "timeout"}` when the signal fires first. The abort
 * listener goes as soon as `work` settles, so nothing of a finished attempt waits on the signal.
 */
function withDeadline(work: Promise<Pinned>, signal: AbortSignal): Promise<Pinned> {
  if (signal.aborted) return Promise.resolve({ ok: false, error: "timeout" });
  let onAbort = () => {};
  const timedOut = new Promise<Pinned>((resolve) => {
    onAbort = () => resolve({ ok: false, error: "timeout" });
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return Promise.race([work, timedOut]).finally(() => signal.removeEventListener("abort", onAbort));
}

/**
 * One deadline for a whole attempt, cleared when the attempt ends: `AbortSignal.timeout` would
 * keep each finished attempt's signal, timer and listeners alive for the full timeout — tens of
 * thousands at once at full delivery rate (found by the memory bench).
 */
function deadline(ms: number): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("The attempt timed out", "TimeoutError")),
    ms,
  );
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

// Read once per process: replacing SIGILUM_WEBHOOK_CA_FILE takes a restart (documented).
let extraCa: { file: string; pem: string[] } | undefined;

/** The system roots plus SIGILUM_WEBHOOK_CA_FILE, when configured. */
async function trustedCas(file: string | null): Promise<string[] | undefined> {
  if (!file) return undefined;
  if (extraCa?.file !== file)
    extraCa = { file, pem: [...rootCertificates, await Bun.file(file).text()] };
  return extraCa.pem;
}

/** The first KiB as text; a character cut at the limit is dropped, not mangled. */
function excerptOf(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes.subarray(0, EXCERPT_LIMIT), { stream: true });
}

async function readExcerpt(response: Response): Promise<string> {
  if (!response.body) return "";
  // A small body of declared length (the usual "ok") is read in one call: the stream reader's
  // per-chunk promises cost more than the read itself. The deadline still applies to it.
  const declared = response.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) <= RESPONSE_READ_LIMIT)
    return excerptOf(new Uint8Array(await response.arrayBuffer()));
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    chunks.push(r.value);
    total += r.value.byteLength;
    if (total >= RESPONSE_READ_LIMIT) {
      await reader.cancel();
      break;
    }
  }
  return excerptOf(Buffer.concat(chunks));
}

function classifyError(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === "TimeoutError" || e.name === "AbortError") return "timeout";
  const text = `${e.code ?? ""} ${e.message ?? ""}`;
  if (/CERT|TLS|SSL|self.signed|altname/i.test(text)) return "tls_error";
  if (/ECONNREFUSED|ConnectionRefused/i.test(text)) return "connection_refused";
  return "connection_error";
}

/** One POST: pinned address, Host and TLS server name kept, no redirects, a total timeout. */
export async function sendWebhook(
  ctx: AppContext,
  url: string,
  headers: Record<string, string>,
  body: string,
): Promise<SendResult> {
  const started = performance.now();
  const target = new URL(url);
  const hostname = target.hostname.replace(/^\[|\]$/g, "");
  const finish = (result: Omit<SendResult, "durationMs">): SendResult => ({
    ...result,
    durationMs: Math.round(performance.now() - started),
  });
  // One deadline for the whole attempt: resolving, connecting, sending and reading.
  const { signal, clear } = deadline(ctx.config.webhookTimeoutMs);
  try {
    return await attempt(ctx, { url, target, hostname, headers, body, signal }, finish);
  } finally {
    clear();
  }
}

interface Attempt {
  url: string;
  target: URL;
  hostname: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

async function attempt(
  ctx: AppContext,
  { url, target, hostname, headers, body, signal }: Attempt,
  finish: (result: Omit<SendResult, "durationMs">) => SendResult,
): Promise<SendResult> {
  const pinned = await withDeadline(pinAddress(ctx, hostname), signal);
  if (!pinned.ok)
    return finish({
      statusCode: null,
      error: pinned.error,
      retryAfterMs: null,
      responseExcerpt: null,
    });
  const connect = new URL(url);
  const ip = formatIp(pinned.address);
  connect.hostname = ip.includes(":") ? `[${ip}]` : ip;
  const isName = parseIp(hostname) === null;
  try {
    const response = await fetch(connect, {
      method: "POST",
      headers: { ...headers, host: target.host },
      body,
      redirect: "manual",
      signal,
      tls:
        target.protocol === "https:"
          ? {
              serverName: isName ? hostname : undefined,
              ca: await trustedCas(ctx.config.webhookCaFile),
            }
          : undefined,
    } as RequestInit);
    const excerpt = await readExcerpt(response);
    return finish({
      statusCode: response.status,
      error: null,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), ctx.clock.now()),
      responseExcerpt: excerpt,
    });
  } catch (err) {
    return finish({
      statusCode: null,
      error: classifyError(err),
      retryAfterMs: null,
      responseExcerpt: null,
    });
  }
}
