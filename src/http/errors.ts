import type { SignatureErrorCode } from "../signing/index.ts";

/** The one error shape of the API: `{error, code, details?, request_id}`. */
export type ErrorCode =
  | "VALIDATION_ERROR"
  | "INVALID_JSON"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "PAYLOAD_TOO_LARGE"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "CSRF_REJECTED"
  | "INVALID_CREDENTIALS"
  | "NAMESPACE_TAKEN"
  | "EMAIL_TAKEN"
  | "SIGNUP_DISABLED"
  | "SLUG_TAKEN"
  | "LIMIT_REACHED"
  | "CONFLICT"
  | "INVALID_WEBHOOK_URL"
  | "INVALID_TRANSITION"
  | "SERVICE_MISMATCH"
  | "NAMESPACE_NOT_FOUND"
  | "NONCE_REPLAY"
  | "INVALID_DID"
  | "CHALLENGE_EXPIRED"
  | "VERIFICATION_FAILED"
  | "LAST_CREDENTIAL"
  | SignatureErrorCode
  | "SIGNATURE_NONCE_REPLAY"
  | "RATE_LIMITED"
  | "SERVICE_UNAVAILABLE"
  | "SECRET_UNAVAILABLE"
  | "INTERNAL_ERROR";

export interface ErrorDetail {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** 400 VALIDATION_ERROR naming every field that failed, in one message and in `details`. */
export function validationErrors(details: ErrorDetail[]): ApiError {
  const where = details.map((d) => `${d.field} ${d.message}`).join("; ");
  return new ApiError(400, "VALIDATION_ERROR", `Invalid request: ${where}`, details);
}

export function validationError(field: string, message: string): ApiError {
  return validationErrors([{ field, message }]);
}

export function invalidJson(message = "Request body is not valid JSON"): ApiError {
  return new ApiError(400, "INVALID_JSON", message);
}

/** 409: the request clashes with what is stored (a taken name, a limit, a state). */
export function conflict(code: ErrorCode, message: string): ApiError {
  return new ApiError(409, code, message);
}

export function limitReached(message: string): ApiError {
  return conflict("LIMIT_REACHED", message);
}

export function forbidden(code: ErrorCode, message: string): ApiError {
  return new ApiError(403, code, message);
}

export function csrfRejected(): ApiError {
  return forbidden(
    "CSRF_REJECTED",
    "Cross-site request rejected: Origin does not match this server",
  );
}

/** 503 with `Retry-After: 1` for an outage that should pass; `cause` goes to the log. */
export function serviceUnavailable(message: string, cause: unknown): ApiError {
  const err = new ApiError(503, "SERVICE_UNAVAILABLE", message, undefined, { "retry-after": "1" });
  err.cause = cause;
  return err;
}

export function notFound(what: string): ApiError {
  return new ApiError(404, "NOT_FOUND", `${what} not found`);
}

export function unauthorized(message = "Authentication required"): ApiError {
  return new ApiError(401, "UNAUTHORIZED", message);
}

export function rateLimited(retryAfterSeconds: number): ApiError {
  return new ApiError(429, "RATE_LIMITED", "Too many requests; slow down", undefined, {
    "retry-after": String(retryAfterSeconds),
  });
}

export function errorBody(err: ApiError, requestId: string) {
  return {
    error: err.message,
    code: err.code,
    ...(err.details ? { details: err.details } : {}),
    request_id: requestId,
  };
}
