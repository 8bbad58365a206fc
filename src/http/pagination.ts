import { t } from "elysia";
import { validationError } from "./errors.ts";

const MAX_OFFSET = 1_000_000_000;

/**
 * Query fields every list route accepts. Ranges are checked by `pageOf`, not the schema, so an
 * out-of-range value is reported on its own field name (Elysia's coercion loses it).
 */
export function paginationQuery(maxLimit = 200) {
  return {
    limit: t.Optional(t.Integer({ description: `1–${maxLimit}, default 50` })),
    offset: t.Optional(t.Integer({ description: "≥ 0, default 0" })),
  };
}

export interface Page {
  limit: number;
  offset: number;
}

export function pageOf(query: { limit?: number; offset?: number }, maxLimit = 200): Page {
  const page = { limit: query.limit ?? 50, offset: query.offset ?? 0 };
  if (page.limit < 1 || page.limit > maxLimit)
    throw validationError("limit", `must be an integer from 1 to ${maxLimit}`);
  if (page.offset < 0 || page.offset > MAX_OFFSET)
    throw validationError("offset", "must be an integer ≥ 0");
  return page;
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
