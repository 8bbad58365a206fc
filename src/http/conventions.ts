import { ValueErrorType } from "@sinclair/typebox/errors";
import { Elysia, ValidationError } from "elysia";
import { storageCause, storageError } from "../db/client.ts";
import { ANY_CONTENT_TYPE_ROUTES, parseJsonBody, readLimitedBody } from "./body.ts";
import { metaOf } from "./context.ts";
import { ApiError, type ErrorDetail, errorBody, invalidJson, validationErrors } from "./errors.ts";
import type { Logger } from "./logger.ts";

export interface RouteTable {
  routes: { method: string; path: string }[];
}

const segments = (path: string) => path.replace(/(.)\/$/, "$1").split("/");
const segmentMatches = (pattern: string, seg: string | undefined) =>
  seg !== undefined && (pattern.startsWith(":") || pattern === seg);

/** A route pattern against a path; a trailing `*` matches whatever follows its prefix, like the router. */
export function pathMatches(pattern: string, path: string): boolean {
  const b = segments(path);
  if (!pattern.endsWith("*")) {
    const a = segments(pattern);
    return a.length === b.length && a.every((seg, i) => segmentMatches(seg, b[i]));
  }
  const a = pattern.slice(0, -1).split("/");
  const last = a.length - 1;
  return (
    b.length >= a.length &&
    a.every((seg, i) => (i === last ? b[i]!.startsWith(seg) : segmentMatches(seg, b[i])))
  );
}

/**
 * The methods for a 405's Allow header, empty for a 404. Only a concrete route makes a path
 * known: a catch-all (the dashboard's `GET /*` assets) exists for every path, so counting it would
 * turn every unknown path into a 405 for other methods. Once a path is known, a wildcard that also
 * reaches it adds its method, since a request with that method does reach a handler.
 */
export function allowedMethods(table: RouteTable, path: string): string[] {
  const matching = table.routes.filter((r) => pathMatches(r.path, path));
  if (!matching.some((r) => !r.path.endsWith("*"))) return [];
  return [...new Set(matching.map((r) => r.method))];
}

interface Issue {
  type?: number;
  path?: string;
  message?: string;
  value?: unknown;
  schema?: { additionalProperties?: unknown; patternError?: unknown };
}

function issueMessage(issue: Issue): string {
  if (issue.value === undefined) return "is required";
  // A pattern's meaning in words (http/fields.ts), not the regular expression.
  if (issue.type === ValueErrorType.StringPattern && typeof issue.schema?.patternError === "string")
    return issue.schema.patternError;
  if (issue.message === "Unexpected property") return "is not an accepted field";
  if (issue.message === "Expected union value") return "is not an accepted value";
  return (issue.message ?? "is invalid")
    .replace(/^Expected/, "must be")
    .replace(/^Property '[^']*' /, "");
}

/** One `{field, message}` per field (the first problem found), fields as dotted paths. */
function validationDetails(error: ValidationError): ErrorDetail[] {
  const details = new Map<string, string>();
  for (const issue of error.all as Issue[]) {
    const field = (issue.path ?? "").replace(/^\//, "").replaceAll("/", ".") || error.type;
    if (!details.has(field)) details.set(field, issueMessage(issue));
  }
  if (details.size === 0) details.set(error.type, "is invalid");
  return [...details].map(([field, message]) => ({ field, message }));
}

function toApiError(
  code: string | number,
  error: unknown,
  table: RouteTable,
  request: Request,
): ApiError | null {
  if (error instanceof ApiError) return error;
  // Elysia wraps whatever our body parser throws (415, 413, 400) in a ParseError.
  if (code === "PARSE" && (error as Error).cause instanceof ApiError)
    return (error as Error).cause as ApiError;
  if (error instanceof ValidationError) {
    return validationErrors(validationDetails(error));
  }
  if (code === "PARSE") return invalidJson();
  if (code === "NOT_FOUND") {
    const methods = allowedMethods(table, new URL(request.url).pathname);
    if (methods.length > 0) {
      return new ApiError(
        405,
        "METHOD_NOT_ALLOWED",
        `Method not allowed; use ${methods.join(", ")}`,
        undefined,
        {
          allow: methods.join(", "),
        },
      );
    }
    return new ApiError(404, "NOT_FOUND", "No such route");
  }
  return storageError(error);
}

export function errorResponse(err: ApiError, requestId: string): Response {
  const headers: Record<string, string> = { "content-type": "application/json", ...err.headers };
  if (err.status === 503 && !headers["retry-after"]) headers["retry-after"] = "1";
  return new Response(JSON.stringify(errorBody(err, requestId)), { status: err.status, headers });
}

/**
 * Cross-cutting HTTP behaviour for every route: the JSON body parser with its limits, the error
 * shape, and the route pattern for the request log.
 */
export function httpConventions(opts: {
  maxBodyBytes: number;
  logger: Logger;
  routeTable: RouteTable;
}) {
  return new Elysia({ name: "http-conventions" })
    .onParse({ as: "global" }, async ({ request, route }) => {
      const bytes = await readLimitedBody(request, opts.maxBodyBytes);
      metaOf(request).rawBody = bytes;
      const anyContentType = ANY_CONTENT_TYPE_ROUTES.has(`${request.method} ${route}`);
      return parseJsonBody(bytes, request.headers.get("content-type"), anyContentType);
    })
    .onTransform({ as: "global" }, ({ request, route }) => {
      metaOf(request).route = route;
    })
    .onError({ as: "global" }, ({ code, error, request }) => {
      const meta = metaOf(request);
      const apiError = toApiError(code, error, opts.routeTable, request);
      if (apiError?.status === 503) {
        // The client gets a retry hint; the operator needs to know what broke.
        opts.logger.warn("storage unavailable", {
          request_id: meta.id,
          route: meta.route,
          cause: storageCause(apiError.cause),
        });
      }
      if (apiError) return errorResponse(apiError, meta.id);
      opts.logger.error("unhandled error", {
        request_id: meta.id,
        route: meta.route,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        stack: error instanceof Error ? error.stack : undefined,
      });
      return errorResponse(
        new ApiError(500, "INTERNAL_ERROR", "Internal error; see the server log"),
        meta.id,
      );
    });
}
