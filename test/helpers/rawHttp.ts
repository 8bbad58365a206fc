import { connect } from "node:net";
import type { JsonResponse } from "./server.ts";

export interface RawResponse extends JsonResponse {
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

/**
 * Writes an HTTP/1.1 request byte for byte — request line, header names and values exactly as
 * given, body as given — to `baseUrl`'s socket, so no client library re-encodes the target,
 * re-cases a header or adds a Content-Type. `Connection: close` is appended.
 */
export function rawHttp(
  baseUrl: string,
  requestLine: string,
  headers: [string, string][],
  body = "",
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const head = [requestLine, ...headers.map(([n, v]) => `${n}: ${v}`), "Connection: close"];
  const bytes = Buffer.concat([
    Buffer.from(`${head.join("\r\n")}\r\n\r\n`, "latin1"),
    Buffer.from(body, "utf8"),
  ]);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("end", () => resolve(parseResponse(Buffer.concat(chunks).toString("utf8"))));
  });
}
