import { expect } from "bun:test";
import type { JsonResponse } from "./server.ts";
import type { ApiErrorBody } from "./types.ts";

/** Assertions every feature's route tests share: the error shape and common formats. */

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A JSON object, so its fields can be read one by one and checked. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The `code` of an error body, for answers whose shape is itself under test. */
export function errorCodeOf(body: unknown): string | undefined {
  return isRecord(body) && typeof body.code === "string" ? body.code : undefined;
}

/**
 * The one error shape: `{error, code, details?, request_id}` plus the X-Request-ID header.
 * Afterwards `res.body` is typed as the error body.
 */
export function expectError(
  res: JsonResponse<unknown>,
  status: number,
  code: ApiErrorBody["code"],
): asserts res is JsonResponse<ApiErrorBody> {
  const body = res.body;
  if (res.status !== status || !isRecord(body) || body.code !== code) {
    throw new Error(
      `expected ${status} ${code}, got ${res.status} ${JSON.stringify(body).slice(0, 500)}`,
    );
  }
  expect(typeof body.error).toBe("string");
  expect(String(body.error).length).toBeGreaterThan(0);
  expect(typeof body.request_id).toBe("string");
  expect(res.headers.get("x-request-id")).toBe(body.request_id as string);
  if (body.details !== undefined) {
    expect(Array.isArray(body.details)).toBe(true);
    for (const d of body.details as unknown[]) {
      expect(isRecord(d)).toBe(true);
      expect(typeof (d as Record<string, unknown>).field).toBe("string");
      expect(typeof (d as Record<string, unknown>).message).toBe("string");
    }
  }
  // No internals leak into error bodies.
  expect(JSON.stringify(body)).not.toMatch(/SQLITE|stack|at .*\.ts:\d+/i);
}

/** A validation error that names `field` among its details. */
export function expectValidation(
  res: JsonResponse<unknown>,
  field?: string,
): asserts res is JsonResponse<ApiErrorBody> {
  expectError(res, 400, "VALIDATION_ERROR");
  expect(Array.isArray(res.body.details)).toBe(true);
  if (field !== undefined) {
    const fields = (res.body.details ?? []).map((d) => d.field);
    expect(fields).toContain(field);
  }
}
