import { navigate } from "./router.tsx";

export interface FieldError {
  field: string;
  message: string;
}

/** The API's error shape (http-api.md §1.2). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldError[] = [],
  ) {
    super(message);
  }
}

export type { Pagination } from "./types.ts";

type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** Paths where a 401 is an answer (wrong password) rather than "signed out". */
const AUTH_ANSWERS = /^\/v1\/auth\/(login|signup)/;

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = {
    method,
    credentials: "same-origin",
    headers: { accept: "application/json" },
  };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, "content-type": "application/json" };
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "NETWORK_ERROR", "The server could not be reached; try again.");
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.ok) return json as T;
  const err = (json ?? {}) as { error?: string; code?: string; details?: FieldError[] };
  const error = new ApiError(
    res.status,
    err.code ?? "HTTP_ERROR",
    err.error ?? `The server answered ${res.status}`,
    Array.isArray(err.details) ? err.details : [],
  );
  if (res.status === 401 && !AUTH_ANSWERS.test(path)) {
    signedOut();
  }
  throw error;
}

let onSignedOut: () => void = () => {};
export function whenSignedOut(handler: () => void) {
  onSignedOut = handler;
}
function signedOut() {
  onSignedOut();
  if (location.pathname !== "/signin" && location.pathname !== "/signup") navigate("/signin");
}

export const api = {
  get: <T>(path: string, query: Query = {}) => request<T>("GET", withQuery(path, query)),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  postEmpty: <T>(path: string) => request<T>("POST", path),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, body),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, body),
  del: <T>(path: string) => request<T>("DELETE", path),
};

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
