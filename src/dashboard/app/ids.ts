// The id formats of http-api.md §1.3 (as in src/ids.ts, which the browser bundle must not import):
// every id is checked before it goes into a URL path, so `..` or `a/b` never reach another route.
export const ID_FORMATS = {
  service: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  apiKey: /^key_[0-9A-Za-z]{20}$/,
  webhook: /^wh_[0-9A-Za-z]{20}$/,
  claim: /^claim_[0-9A-Za-z]{24}$/,
  delivery: /^dlv_[0-9A-Za-z]{24}$/,
  token: /^pat_[0-9A-Za-z]{20}$/,
  session: /^ses_[0-9A-Za-z]{20}$/,
  namespace: /^[a-z0-9](?:[a-z0-9-]{1,62})[a-z0-9]$/,
  passkey: /^pk_[0-9A-Za-z]{20}$/,
} as const;

export type IdKind = keyof typeof ID_FORMATS;

export function isId(kind: IdKind, value: string | null | undefined): value is string {
  return typeof value === "string" && ID_FORMATS[kind].test(value);
}

export class InvalidIdError extends Error {}

/** `apiPath("/v1/services/{service}/keys", { service })`, refusing ids of the wrong format. */
export function apiPath(template: string, ids: Partial<Record<IdKind, string>>): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (_, kind: IdKind) => {
    const value = ids[kind];
    if (!isId(kind, value)) throw new InvalidIdError(`Not a valid ${kind} id`);
    return value;
  });
}
