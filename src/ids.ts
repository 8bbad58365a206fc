/** The one id and secret generator: every random identifier comes from the CSPRNG here. */
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Uniform base62 string (rejection sampling, so no modulo bias). */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function encodeBase62(value: number, width: number): string {
  let out = "";
  let v = value;
  for (let i = 0; i < width; i++) {
    out = BASE62[v % 62] + out;
    v = Math.floor(v / 62);
  }
  return out;
}

/**
 * A row id that sorts by creation: 8 base62 digits of the millisecond clock (base62's digits are in
 * ASCII order, so the text sorts like the number; enough until the year 8888), then `random` CSPRNG
 * characters. New rows then land at the end of their primary-key index instead of on a random page
 * of it: a commit of many claims, events or deliveries dirties one page there, not one per row
 * (bench/RESULTS.md, issue 11). Same format as any other id of its kind (http-api.md §1.3).
 */
function timeOrderedBase62(random: number): string {
  return encodeBase62(Date.now(), 8) + randomBase62(random);
}

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

// Request ids only need to be unique, not secret: a random per-process prefix and a counter.
const REQUEST_PREFIX = `req_${randomBase62(8)}`;
let requestCounter = 0;

function nextRequestId(): string {
  requestCounter += 1;
  return `${REQUEST_PREFIX}${requestCounter.toString(36).padStart(12, "0")}`;
}

export const newId = {
  service: () => crypto.randomUUID(),
  owner: () => crypto.randomUUID(),
  session: () => `ses_${randomBase62(20)}`,
  passkey: () => `pk_${randomBase62(20)}`,
  apiKey: () => `key_${randomBase62(20)}`,
  webhook: () => `wh_${randomBase62(20)}`,
  token: () => `pat_${randomBase62(20)}`,
  claim: () => `claim_${timeOrderedBase62(16)}`,
  event: () => `evt_${timeOrderedBase62(16)}`,
  delivery: () => `dlv_${timeOrderedBase62(16)}`,
  request: nextRequestId,
};

/**
 * The format of every identifier that appears in a URL path (http-api.md §1.3), shared by the
 * server and its clients (CLI, dashboard): Bun resolves `.` and `..` segments before the app sees
 * the path, so a client must check an id before building a path from it (see `pathWithIds`).
 */
export const ID_FORMATS = {
  service: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  apiKey: /^key_[0-9A-Za-z]{20}$/,
  webhook: /^wh_[0-9A-Za-z]{20}$/,
  claim: /^claim_[0-9A-Za-z]{24}$/,
  event: /^evt_[0-9A-Za-z]{24}$/,
  delivery: /^dlv_[0-9A-Za-z]{24}$/,
  token: /^pat_[0-9A-Za-z]{20}$/,
  session: /^ses_[0-9A-Za-z]{20}$/,
  passkey: /^pk_[0-9A-Za-z]{20}$/,
  /** Namespaces and service slugs (input is lower-cased before checking). */
  namespace: /^[a-z0-9](?:[a-z0-9-]{1,62})[a-z0-9]$/,
} as const;

export type IdKind = keyof typeof ID_FORMATS;

export function isId(kind: IdKind, value: string): boolean {
  return ID_FORMATS[kind].test(value);
}

export function isUuid(value: string): boolean {
  return isId("service", value);
}

export class InvalidIdError extends Error {}

/**
 * Fills `{kind}` placeholders of a path template with ids checked against their formats, e.g.
 * `pathWithIds("/v1/services/{service}/keys/{apiKey}", {service, apiKey})`. Throws
 * InvalidIdError for anything else — `..`, `.`, `%2e%2e`, `a/b` — rather than build a path that
 * would reach a different resource.
 */
export function pathWithIds(template: string, ids: Partial<Record<IdKind, string>>): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (_, kind: string) => {
    if (!Object.hasOwn(ID_FORMATS, kind)) throw new InvalidIdError(`unknown id kind {${kind}}`);
    const value = ids[kind as IdKind];
    if (value === undefined) throw new InvalidIdError(`no value for {${kind}}`);
    if (!isId(kind as IdKind, value))
      throw new InvalidIdError(
        `not a valid ${ID_LABELS[kind as IdKind]}: ${JSON.stringify(value)}`,
      );
    return value;
  });
}

const ID_LABELS: Record<IdKind, string> = {
  service: "service id",
  apiKey: "API key id",
  webhook: "webhook id",
  claim: "claim id",
  event: "event id",
  delivery: "delivery id",
  token: "token id",
  session: "session id",
  passkey: "passkey id",
  namespace: "namespace",
};
