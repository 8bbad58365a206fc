import { validationError } from "./http/errors.ts";
import { isId } from "./ids.ts";

/** Namespaces and service slugs share one rule; input is lower-cased before checking. */
export function normalizeSlug(field: string, raw: string): string {
  const value = raw.trim().toLowerCase();
  if (!isId("namespace", value)) {
    throw validationError(
      field,
      "must be 3–64 characters of a–z, 0–9 and '-', not starting or ending with '-'",
    );
  }
  return value;
}
