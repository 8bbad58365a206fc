/** Covered components (signing.md §2) and the signature base (§4). */

export const SIGNATURE_HEADERS = {
  namespace: "sigilum-namespace",
  subject: "sigilum-subject",
  agentKey: "sigilum-agent-key",
  agentCert: "sigilum-agent-cert",
  agentId: "sigilum-agent-id",
  contentDigest: "content-digest",
  signatureInput: "signature-input",
  signature: "signature",
} as const;

/** The four fixed lists of §2, chosen by "body non-empty?" and "agent id present?". */
export function expectedComponents(shape: { hasBody: boolean; hasAgentId: boolean }): string[] {
  return [
    "@method",
    "@target-uri",
    ...(shape.hasBody ? [SIGNATURE_HEADERS.contentDigest] : []),
    SIGNATURE_HEADERS.namespace,
    SIGNATURE_HEADERS.subject,
    ...(shape.hasAgentId ? [SIGNATURE_HEADERS.agentId] : []),
    SIGNATURE_HEADERS.agentKey,
    SIGNATURE_HEADERS.agentCert,
  ];
}

export function isExpectedComponentList(
  components: readonly string[],
  shape: { hasBody: boolean; hasAgentId: boolean },
): boolean {
  const expected = expectedComponents(shape);
  return (
    components.length === expected.length && components.every((name, i) => name === expected[i])
  );
}

export interface SignatureBaseInput {
  method: string;
  /** Already normalised (see `normalizeTargetUri`). */
  targetUri: string;
  components: readonly string[];
  /** Header lookup by lower-case name; `null` when absent. */
  header: (name: string) => string | null;
  /** The `signature-input` value without `sig1=`. */
  params: string;
}

/** One `"name": value` line per component, then `@signature-params`; `null` if a header is absent. */
export function buildSignatureBase(input: SignatureBaseInput): string | null {
  const lines: string[] = [];
  for (const name of input.components) {
    const value = componentValue(name, input);
    if (value === null) return null;
    lines.push(`"${name}": ${value}`);
  }
  lines.push(`"@signature-params": ${input.params}`);
  return lines.join("\n");
}

function componentValue(name: string, input: SignatureBaseInput): string | null {
  // The profile lower-cases the method, unlike RFC 9421.
  if (name === "@method") return input.method.toLowerCase();
  if (name === "@target-uri") return input.targetUri;
  if (name.startsWith("@")) return null;
  const value = input.header(name);
  return value === null ? null : value.trim();
}
