import { Type } from "@sinclair/typebox";
import { t } from "elysia";

// Field schemas shared by the owner-route models, so each rule is written once.

// At least one visible character and no control characters. The visible character is spelled
// out: a bare \S would also match one control character such as NUL or BEL.
const LABEL_PATTERN =
  "^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$";
// Free text: tabs and newlines allowed, other control characters not.
const TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$";

/** A name or label (trimmed by the services that store it). */
export function Label(maxLength = 100) {
  return t.String({ minLength: 1, maxLength, pattern: LABEL_PATTERN });
}

/** A description: up to `maxLength` characters of text. */
export function FreeText(maxLength = 1000) {
  return t.String({ maxLength, pattern: TEXT_PATTERN });
}

const closed = { additionalProperties: false } as const;

/** No query parameters at all. */
export const NoQuery = t.Object({}, closed);

/** No body; an empty object is accepted (clients that always send JSON send `{}`). */
export const NoBody = t.Optional(t.Object({}, closed));

type WithDeclaredInput<H> = Omit<H, "query" | "body"> & {
  query: H extends { query: infer Q } ? Q : typeof NoQuery;
  body: H extends { body: infer B } ? B : typeof NoBody;
};

/**
 * Owner routes take only what they declare (http-api.md §1.1): a route that names no query or
 * no body gets a closed, empty one, so `?x=1` or `{"x":1}` is a 400 instead of being ignored.
 * (An Elysia guard cannot do this: its schema would replace the routes' own.)
 */
export function ownerInput<const H extends object>(hook: H): WithDeclaredInput<H> {
  return { query: NoQuery, body: NoBody, ...hook } as WithDeclaredInput<H>;
}

// Elysia's own t.Integer / t.Boolean accept "60" / "true" strings; JSON bodies must carry real
// numbers and booleans, so bodies use TypeBox's strict ones.

export function StrictInteger(options: { minimum: number; maximum: number; description?: string }) {
  return Type.Integer(options);
}

export function StrictBoolean() {
  return Type.Boolean();
}
