import { ApiError, invalidJson, validationError } from "./errors.ts";

const JSON_MEDIA_TYPE = /^application\/json\s*(;.*)?$/i;

/**
 * The routes services and agents call (http-api.md §1.1) read their body as JSON whatever the
 * Content-Type: the official SDKs' default transports send `text/plain`, a form type or none, and
 * the signature's content digest covers the bytes anyway. Owner routes keep 415. (Verify, the
 * feed and namespace facts are GETs, whose bodies are never parsed.)
 * A new service/agent route joins by adding its Elysia `METHOD /path` pattern here.
 */
export const ANY_CONTENT_TYPE_ROUTES: ReadonlySet<string> = new Set([
  "POST /v1/claims",
  "POST /v1/usage/events",
]);

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, "PAYLOAD_TOO_LARGE", `Request body exceeds ${maxBytes} bytes`);
}

/**
 * Reads the body without ever buffering more than `maxBytes` (+ one chunk). A body with a declared
 * length within the limit is read in one native call: the server reads exactly that many bytes
 * (HTTP framing), and the stream reader's per-chunk promises cost ~8 % of a claim's CPU.
 */
export async function readLimitedBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const length = request.headers.get("content-length");
  const declared = Number(length ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array();
  if (length !== null && !request.headers.has("transfer-encoding")) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    total += r.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(r.value);
  }
  return Buffer.concat(chunks);
}

const MAX_DEPTH = 32;

function bodyError(message: string): ApiError {
  return validationError("body", message);
}

/**
 * Every route takes a JSON object. Deep nesting is refused before any schema sees it (it made
 * the validator's error reporting overflow its stack), and `__proto__` keys are refused because
 * copying such an object would set its prototype instead of a field.
 */
function checkShape(value: unknown, depth = 0): void {
  if (depth > MAX_DEPTH) throw bodyError(`must not nest deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value !== "object") return;
  if (Array.isArray(value)) {
    for (const item of value) checkShape(item, depth + 1);
    return;
  }
  for (const key of Object.keys(value)) {
    if (key === "__proto__") throw bodyError("must not contain a __proto__ key");
    checkShape((value as Record<string, unknown>)[key], depth + 1);
  }
}

/**
 * The single body parser: JSON objects only, size-limited, and an empty body means "no body".
 * `anyContentType` skips the media-type check (see ANY_CONTENT_TYPE_ROUTES).
 */
export function parseJsonBody(
  bytes: Uint8Array,
  contentType: string | null,
  anyContentType = false,
): unknown {
  if (bytes.byteLength === 0) return undefined;
  if (!anyContentType && !JSON_MEDIA_TYPE.test(contentType?.trim() ?? "")) {
    throw new ApiError(415, "UNSUPPORTED_MEDIA_TYPE", "Request body must be application/json");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw invalidJson("Request body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidJson();
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw bodyError("must be a JSON object");
  checkShape(value);
  return value;
}
