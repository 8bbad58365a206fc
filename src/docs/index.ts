import { Elysia } from "elysia";
import { VERSION } from "../version.ts";
import { buildOpenApi, type OpenApiSpec, type RouteInfo } from "./openapi.ts";
import { renderDocsPage } from "./page.ts";

export type { OpenApiSpec } from "./openapi.ts";
export { isHidden, UNDOCUMENTED } from "./openapi.ts";

/** The OpenAPI description of a built app; relative to this server unless a public URL is set. */
export function openApiOf(app: { routes: unknown[] }, publicUrl: URL | null): OpenApiSpec {
  return buildOpenApi(app.routes as RouteInfo[], VERSION, publicUrl?.origin ?? "/");
}

/** `/openapi.json` and `/docs`, generated once from the finished app's routes. */
export function docsFeature(app: { routes: unknown[] }, publicUrl: URL | null = null) {
  let spec: OpenApiSpec | undefined;
  const specOf = () => {
    spec ??= openApiOf(app, publicUrl);
    return spec;
  };
  let page: string | undefined;
  return new Elysia({ name: "docs" })
    .get("/openapi.json", () => specOf(), { detail: { summary: "OpenAPI 3.1 description" } })
    .get(
      "/docs",
      () => {
        page ??= renderDocsPage(specOf());
        return new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } });
      },
      { detail: { summary: "Human-readable API reference" } },
    );
}
