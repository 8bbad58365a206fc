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
  apiKey: () => `key_${randomBase62(20)}`,
  webhook: () => `wh_${randomBase62(20)}`,
  token: () => `pat_${randomBase62(20)}`,
  claim: () => `claim_${randomBase62(24)}`,
  event: () => `evt_${randomBase62(24)}`,
  delivery: () => `dlv_${randomBase62(24)}`,
  request: nextRequestId,
};

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}
