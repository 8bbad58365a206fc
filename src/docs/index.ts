import { Elysia } from "elysia";
import { VERSION } from "../version.ts";
import { buildOpenApi, type RouteInfo } from "./openapi.ts";
import { renderDocsPage } from "./page.ts";

/** `/openapi.json` and `/docs`, generated once from the finished app's routes. */
export function docsFeature(app: { routes: unknown[] }) {
  let spec: ReturnType<typeof buildOpenApi> | undefined;
  const specOf = () => {
    spec ??= buildOpenApi(app.routes as RouteInfo[], VERSION);
    return spec;
  };
  return new Elysia({ name: "docs" })
    .get("/openapi.json", () => specOf(), { detail: { summary: "OpenAPI 3.1 description" } })
    .get(
      "/docs",
      () =>
        new Response(renderDocsPage(specOf()), {
          headers: { "content-type": "text/html; charset=utf-8" },
        }),
      { detail: { summary: "Human-readable API reference" } },
    );
}
