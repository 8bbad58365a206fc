import { t } from "elysia";

/** Query fields every list route accepts (limit 1–max, offset ≥ 0). */
export function paginationQuery(maxLimit = 200) {
  return {
    limit: t.Optional(
      t.Integer({ minimum: 1, maximum: maxLimit, description: `1–${maxLimit}, default 50` }),
    ),
    offset: t.Optional(t.Integer({ minimum: 0, maximum: 1_000_000_000, description: "default 0" })),
  };
}

export interface Page {
  limit: number;
  offset: number;
}

export function pageOf(query: { limit?: number; offset?: number }): Page {
  return { limit: query.limit ?? 50, offset: query.offset ?? 0 };
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
