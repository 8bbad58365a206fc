import { t } from "elysia";
import { validationError } from "./errors.ts";

const MAX_OFFSET = 1_000_000_000;

/**
 * The schema OpenAPI shows for a query field validated as a string and read as something else
 * (an integer here), so clients see `integer` with its range, not `string`.
 */
export const DOC_AS = "x-sigilum-doc-as";

// Plain decimal digits only: Number() would also read "0x10", "1e1", " 16", "+16" and "16.0".
const DIGITS = /^[0-9]{1,12}$/;

/**
 * Query fields every list route accepts. They are strings to the schema and read by `pageOf`, so
 * a bad value is reported on its own field name with the accepted range.
 */
export function paginationQuery(maxLimit = 200) {
  return {
    limit: t.Optional(
      t.String({
        description: `decimal integer 1–${maxLimit}, default 50`,
        [DOC_AS]: { type: "integer", minimum: 1, maximum: maxLimit, default: 50 },
      }),
    ),
    offset: t.Optional(
      t.String({
        description: "decimal integer ≥ 0, default 0",
        [DOC_AS]: { type: "integer", minimum: 0, maximum: MAX_OFFSET, default: 0 },
      }),
    ),
  };
}

/** The query of a plain paginated list: `limit` and `offset`, nothing else. */
export const ListQuery = t.Object(paginationQuery(), { additionalProperties: false });

export interface Page {
  limit: number;
  offset: number;
}

export function integerParam(
  field: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
) {
  if (raw === undefined) return fallback;
  const n = DIGITS.test(raw) ? Number(raw) : Number.NaN;
  if (!(n >= min && n <= max))
    throw validationError(field, `must be a decimal integer from ${min} to ${max}`);
  return n;
}

export function pageOf(query: { limit?: string; offset?: string }, maxLimit = 200): Page {
  return {
    limit: integerParam("limit", query.limit, 50, 1, maxLimit),
    offset: integerParam("offset", query.offset, 0, 0, MAX_OFFSET),
  };
}

export const PaginationModel = t.Object({
  limit: t.Integer(),
  offset: t.Integer(),
  total: t.Integer(),
  has_more: t.Boolean(),
});

/** The list envelope: `{<plural>: items, pagination}`. */
export function paginated<K extends string, T>(plural: K, items: T[], page: Page, total: number) {
  return {
    [plural]: items,
    pagination: {
      limit: page.limit,
      offset: page.offset,
      total,
      has_more: page.offset + items.length < total,
    },
  } as { [P in K]: T[] } & { pagination: typeof PaginationModel.static };
}
