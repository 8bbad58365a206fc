import { connect } from "node:net";
import type { JsonResponse } from "./server.ts";

export interface RawResponse<T = unknown> extends JsonResponse<T> {
  text: string;
}

/** Joins a chunked body's chunks (Bun streams some responses). */
function unchunk(raw: string): string {
  let out = "";
  let rest = raw;
  for (;;) {
    const eol = rest.indexOf("\r\n");
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return out;
    out += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}

function parseResponse(raw: string): RawResponse {
  const split = raw.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = raw.slice(0, split).split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const payload = raw.slice(split + 4);
  const text = headers.get("transfer-encoding") === "chunked" ? unchunk(payload) : payload;
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: Number(statusLine!.split(" ")[1]), headers, body: body as never, text };
}

/** Writes `bytes` to a loopback socket and reads the whole response (the server closes). */
function exchange(hostname: string, port: number, bytes: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, hostname, () => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(parseResponse(Buffer.concat(chunks).toString("utf8"))));
  });
}

/**
 * Writes an HTTP/1.1 request byte for byte — request line, header names and values exactly as
 * given, body as given — to `baseUrl`'s socket, so no client library re-encodes the target,
 * re-cases a header or adds a Content-Type. `Connection: close` is appended.
 */
export function rawHttp<T = unknown>(
  baseUrl: string,
  requestLine: string,
  headers: [string, string][],
  body = "",
): Promise<RawResponse<T>> {
  const { hostname, port } = new URL(baseUrl);
  const head = [requestLine, ...headers.map(([n, v]) => `${n}: ${v}`), "Connection: close"];
  const bytes = Buffer.concat([
    Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1"),
    Buffer.from(body, "utf8"),
  ]);
  return exchange(hostname, Number(port), bytes) as Promise<RawResponse<T>>;
}

/**
 * Sends `head` (request line and headers, without the blank line) as written, so tests can send
 * what `fetch` refuses to: a short, empty, malformed or missing Host header. `body` is the text.
 */
export async function rawRequest(port: number, head: string, body = "") {
  const bytes = Buffer.from(`${head}\r\nConnection: close\r\n\r\n${body}`, "latin1");
  const res = await exchange("127.0.0.1", port, bytes);
  return { status: res.status, headers: res.headers, body: res.text };
}
