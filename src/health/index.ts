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

export function healthFeature(ctx: AppContext) {
  return (
    new Elysia({ name: "health", tags: ["health"] })
      .get("/healthz", alive, { response: Alive, detail: { summary: "Process is alive" } })
      // The reference implementation's path, which its operator scripts probe (http-api.md §2).
      .get("/health", alive, {
        response: Alive,
        detail: { summary: "Process is alive (as /healthz)" },
      })
      .get(
        "/metrics",
        async () =>
          new Response(ctx.metrics.render(await scrapeMetrics(ctx)), {
            headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
          }),
        { detail: { summary: "Prometheus metrics" } },
      )
      .get(
        "/readyz",
        async ({ set }) => {
          if (await databaseReady(ctx)) return { status: "ready", database: "ok" };
          set.status = 503;
          set.headers["retry-after"] = "1";
          return { status: "unavailable", database: "unavailable" };
        },
        { detail: { summary: "Database reachable and migrated" } },
      )
  );
}
