import { Elysia, t } from "elysia";
import type { AppContext } from "../context.ts";
import { storageCause } from "../db/client.ts";
import { pendingMigrations } from "../db/migrate.ts";
import { scrapeMetrics } from "./metrics.ts";

async function databaseReady(ctx: AppContext): Promise<boolean> {
  try {
    return (await pendingMigrations(ctx.database)).length === 0;
  } catch (err) {
    ctx.logger.warn("database not ready", { cause: storageCause(err) });
    return false;
  }
}

const Alive = { 200: t.Object({ status: t.String() }) };
const alive = () => ({ status: "ok" });
export const Ready = t.Object({ status: t.Literal("ready"), database: t.Literal("ok") });
export const Unready = t.Object(
  { status: t.Literal("unavailable"), database: t.Literal("unavailable") },
  { description: "Storage unreachable or migrations pending (see Retry-After)" },
);

export function healthFeature(ctx: AppContext) {
  return (
    new Elysia({ name: "health", tags: ["health"] })
      .get("/healthz", alive, {
        response: Alive,
        detail: { operationId: "getLiveness", summary: "Process is alive" },
      })
      // The reference implementation's path, which its operator scripts probe (http-api.md §2).
      .get("/health", alive, {
        response: Alive,
        detail: { operationId: "getHealth", summary: "Process is alive (as /healthz)" },
      })
      .get(
        "/metrics",
        async () =>
          new Response(ctx.metrics.render(await scrapeMetrics(ctx)), {
            headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
          }),
        {
          detail: {
            operationId: "getMetrics",
            summary: "Prometheus metrics",
            responses: {
              200: {
                description: "Prometheus text exposition format 0.0.4",
                content: { "text/plain": { schema: { type: "string" } } },
              },
            },
          },
        },
      )
      .get(
        "/readyz",
        async ({ set }) => {
          if (await databaseReady(ctx)) return { status: "ready", database: "ok" };
          set.status = 503;
          set.headers["retry-after"] = "1";
          return { status: "unavailable", database: "unavailable" };
        },
        {
          response: {
            200: Ready,
            503: Unready,
          },
          detail: { operationId: "getReadiness", summary: "Database reachable and migrated" },
        },
      )
  );
}
