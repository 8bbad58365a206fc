import { type TLiteral, type TSchema, type TUnion, Type } from "@sinclair/typebox";
import { t } from "elysia";

// Field schemas shared by the owner-route models, so each rule is written once.

// http-api.md §1.1: text has no C0 control character (tab and newline included), no DEL, no C1
// control and no lone surrogate. TypeBox compiles patterns without the `u` flag, so the pattern
// sees UTF-16 code units and spells a valid surrogate pair out.
const TEXT_CHAR =
  "(?:[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])";
const TEXT_PATTERN = `^${TEXT_CHAR}*$`;
// A label also needs one visible character.
const LABEL_PATTERN = `^(?=[\\s\\S]*\\S)${TEXT_CHAR}*$`;
const TEXT_RULE =
  "must not contain control characters (tab and newline included) or lone surrogates";

const CLEAN_TEXT = new RegExp(TEXT_PATTERN);

type TextOptions = Omit<NonNullable<Parameters<typeof t.String>[0]>, "pattern">;

/**
 * Every text field of the API: a string held to the §1.1 rule. `patternError` is what the error
 * details say when the pattern fails (http/conventions.ts), instead of the regular expression.
 */
export function Text(options: TextOptions = {}) {
  return t.String({ ...options, pattern: TEXT_PATTERN, patternError: TEXT_RULE });
}

/** A value or `null` (the API's way of saying "not set"). */
export function Nullable<T extends TSchema>(schema: T) {
  return t.Union([schema, t.Null()]);
}

/** A name or label (trimmed by the services that store it). */
export function Label(maxLength = 100, description?: string) {
  return t.String({
    minLength: 1,
    maxLength,
    description,
    pattern: LABEL_PATTERN,
    patternError: `must have a visible character and ${TEXT_RULE.replace("must ", "")}`,
  });
}

/** A description: up to `maxLength` characters of text. */
export function FreeText(maxLength = 1000) {
  return Text({ maxLength });
}

/** The §1.1 rule for values checked outside a schema. */
export function isCleanText(value: string): boolean {
  return CLEAN_TEXT.test(value);
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

/** A union of string literals from one `as const` list (the schema's enums), so it is written once. */
export function OneOf<const T extends readonly string[]>(values: T) {
  return t.Union(values.map((v) => t.Literal(v))) as unknown as TUnion<Literals<T>>;
}

type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

/** What every DELETE route answers. */
export const Deleted = t.Object({ id: t.String(), deleted: t.Boolean() });
