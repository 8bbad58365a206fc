/**
 * Strict parsers for `signature-input` and `signature` (signing.md §1). They never throw:
 * every malformed value becomes `{ ok: false, reason }`, which the verifier maps to 401.
 */
import { fromBase64Strict, toBase64 } from "./encoding.ts";

export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface SignatureInput {
  components: string[];
  created: number;
  keyId: string;
  alg: "ed25519";
  nonce: string;
  /** The value without the leading `sig1=`: the `@signature-params` line, byte for byte. */
  params: string;
}

export interface SignatureParams {
  components: readonly string[];
  created: number;
  keyId: string;
  nonce: string;
}

const LABEL = "sig1";
const SIGNATURE_LENGTH = 64;
/** Fixed order created;keyid;alg;nonce and nothing else (no `expires`, no `tag`). */
const SIGNATURE_INPUT =
  /^sig1=\(([^()]*)\);created=([^;"]*);keyid="([^"]*)";alg="([^"]*)";nonce="([^"]*)"$/;
/** Printable ASCII except space, `"`, `(`, `)` and `\`. */
const COMPONENT = /^"([\x21\x23-\x27\x2a-\x5b\x5d-\x7e]+)"$/;
const POSITIVE_INTEGER = /^[1-9][0-9]*$/;
const SIGNATURE = /^sig1=:([^:]*):$/;

export function parseSignatureInput(value: string): ParseResult<SignatureInput> {
  if (countListMembers(value) !== 1) return fail("signature-input must hold exactly one label");
  if (!value.startsWith(`${LABEL}=`)) return fail(`signature-input label must be ${LABEL}`);
  const match = SIGNATURE_INPUT.exec(value);
  if (!match) return fail("signature-input must be sig1=(…);created;keyid;alg;nonce in that order");
  const [, list = "", createdText = "", keyId = "", alg = "", nonce = ""] = match;
  const components = parseComponents(list);
  if (components === null)
    return fail("components must be double-quoted names joined by one space");
  if (!POSITIVE_INTEGER.test(createdText) || !Number.isSafeInteger(Number(createdText)))
    return fail("created must be a positive integer");
  if (keyId === "") return fail("keyid must not be empty");
  if (alg !== "ed25519") return fail("alg must be ed25519");
  if (nonce === "") return fail("nonce must not be empty");
  const params = value.slice(LABEL.length + 1);
  return {
    ok: true,
    value: { components, created: Number(createdText), keyId, alg, nonce, params },
  };
}

/** `("a" "b");created=…;keyid="…";alg="ed25519";nonce="…"` — the `@signature-params` value. */
export function formatSignatureParams(params: SignatureParams): string {
  const list = params.components.map((name) => `"${name}"`).join(" ");
  return `(${list});created=${params.created};keyid="${params.keyId}";alg="ed25519";nonce="${params.nonce}"`;
}

export function formatSignatureInput(params: SignatureParams): string {
  return `${LABEL}=${formatSignatureParams(params)}`;
}

/** `sig1=:<standard padded base64 of 64 bytes>:` → the signature bytes. */
export function parseSignature(value: string): ParseResult<Uint8Array> {
  const match = SIGNATURE.exec(value);
  if (!match) return fail("signature must be sig1=:<base64>:");
  const bytes = fromBase64Strict(match[1] ?? "");
  if (bytes === null) return fail("signature is not standard padded base64");
  if (bytes.length !== SIGNATURE_LENGTH) return fail("signature must be 64 bytes");
  return { ok: true, value: bytes };
}

export function formatSignature(signature: Uint8Array): string {
  return `${LABEL}=:${toBase64(signature)}:`;
}

/**
 * Members of a structured-field list/dictionary: commas outside double quotes separate them.
 * A `Headers` object joins repeated headers with ", ", so a count above 1 means a duplicate.
 */
export function countListMembers(value: string): number {
  let members = 1;
  let quoted = false;
  for (const char of value) {
    if (char === '"') quoted = !quoted;
    else if (char === "," && !quoted) members++;
  }
  return members;
}

function parseComponents(list: string): string[] | null {
  if (list === "") return [];
  const names: string[] = [];
  for (const token of list.split(" ")) {
    const match = COMPONENT.exec(token);
    if (!match?.[1]) return null;
    names.push(match[1]);
  }
  return names;
}

function fail(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}
