import { validationError } from "./http/errors.ts";

const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{1,62})[a-z0-9]$/;

/** Namespaces and service slugs share one rule; input is lower-cased before checking. */
export function normalizeSlug(field: string, raw: string): string {
  const value = raw.trim().toLowerCase();
  if (!SLUG_RE.test(value)) {
    throw validationError(
      field,
      "must be 3–64 characters of a–z, 0–9 and '-', not starting or ending with '-'",
    );
  }
  return value;
}
