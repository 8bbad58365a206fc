import { expect } from "bun:test";
import type { JsonResponse } from "./server.ts";

/** Assertions every feature's route tests share: the error shape and common formats. */

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The one error shape: `{error, code, details?, request_id}` plus the X-Request-ID header. */
export function expectError(res: JsonResponse, status: number, code: string): void {
  if (res.status !== status || res.body?.code !== code) {
    throw new Error(
      `expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`,
    );
  }
  expect(typeof res.body.error).toBe("string");
  expect(res.body.error.length).toBeGreaterThan(0);
  expect(typeof res.body.request_id).toBe("string");
  expect(res.headers.get("x-request-id")).toBe(res.body.request_id);
  if (res.body.details !== undefined) {
    expect(Array.isArray(res.body.details)).toBe(true);
    for (const d of res.body.details) {
      expect(typeof d.field).toBe("string");
      expect(typeof d.message).toBe("string");
    }
  }
  // No internals leak into error bodies.
  expect(JSON.stringify(res.body)).not.toMatch(/SQLITE|stack|at .*\.ts:\d+/i);
}

/** A validation error that names `field` among its details. */
export function expectValidation(res: JsonResponse, field?: string): void {
  expectError(res, 400, "VALIDATION_ERROR");
  expect(Array.isArray(res.body.details)).toBe(true);
  if (field !== undefined) {
    const fields = res.body.details.map((d: { field: string }) => d.field);
    expect(fields).toContain(field);
  }
}
