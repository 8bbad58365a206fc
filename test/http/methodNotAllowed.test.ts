import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import {
  allowedMethods,
  httpConventions,
  pathMatches,
  type RouteTable,
} from "../../src/http/conventions.ts";
import { createLogger } from "../../src/http/logger.ts";

const table = (...routes: [string, string][]): RouteTable => ({
  routes: routes.map(([method, path]) => ({ method, path })),
});

describe("pathMatches", () => {
  test("a wildcard matches only paths under its prefix", () => {
    expect(pathMatches("/*", "/anything/at/all")).toBe(true);
    expect(pathMatches("/assets/*", "/assets/app.js")).toBe(true);
    expect(pathMatches("/assets/*", "/assets/img/logo.svg")).toBe(true);
    expect(pathMatches("/assets/*", "/v1/services")).toBe(false);
    expect(pathMatches("/assets/*", "/assetsx")).toBe(false);
    expect(pathMatches("/v1/:id/*", "/v1/svc_1/keys")).toBe(true);
    expect(pathMatches("/v1/:id/*", "/v2/svc_1/keys")).toBe(false);
  });
});

describe("allowedMethods", () => {
  test("concrete routes: parameters match one segment, a trailing slash is ignored", () => {
    const t = table(["GET", "/v1/services"], ["POST", "/v1/services"], ["GET", "/v1/services/:id"]);
    expect(allowedMethods(t, "/v1/services/")).toEqual(["GET", "POST"]);
    expect(allowedMethods(t, "/v1/services/svc_1")).toEqual(["GET"]);
    expect(allowedMethods(t, "/v1/services/svc_1/keys")).toEqual([]);
    expect(allowedMethods(t, "/v1/other")).toEqual([]);
  });

  test("a path reached only through a wildcard is unknown (404), whatever the wildcard's prefix", () => {
    const t = table(["GET", "/*"], ["GET", "/assets/*"], ["POST", "/v1/services"]);
    expect(allowedMethods(t, "/nope")).toEqual([]);
    expect(allowedMethods(t, "/assets/app.js")).toEqual([]);
  });

  test("a concrete path lists the methods of every route reaching it, wildcards under their prefix only", () => {
    const t = table(["POST", "/v1/services"], ["GET", "/v1/*"], ["PUT", "/assets/*"]);
    expect(allowedMethods(t, "/v1/services")).toEqual(["POST", "GET"]);
    const other = table(["POST", "/v1/services"], ["PUT", "/assets/*"], ["PATCH", "/v1/x/*"]);
    expect(allowedMethods(other, "/v1/services")).toEqual(["POST"]);
  });
});

describe("a catch-all GET route (the dashboard's assets) over real HTTP", () => {
  let stop: () => unknown;
  let base: string;
  beforeAll(() => {
    const routeTable: RouteTable = { routes: [] };
    const logger = createLogger("silent", "json");
    const app = new Elysia()
      .use(httpConventions({ maxBodyBytes: 1024, logger, routeTable }))
      .get("/v1/things", () => ({ things: [] }))
      .get("/*", ({ status }) => status(404, { code: "NOT_FOUND" }));
    routeTable.routes = app.routes;
    app.listen({ port: 0, hostname: "127.0.0.1" });
    base = `http://127.0.0.1:${app.server?.port}`;
    stop = () => app.stop(true);
  });
  afterAll(() => stop());

  test("DELETE on an unknown path is 404, not 405", async () => {
    const res = await fetch(`${base}/nope`, { method: "DELETE" });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe("NOT_FOUND");
    expect(res.headers.get("allow")).toBeNull();
  });

  test("a wrong method on a concrete path is still 405 with Allow", async () => {
    const res = await fetch(`${base}/v1/things`, { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET");
  });
});
