import { type GeneratedIdentity, generateIdentity, signRequest } from "../../src/signing/index.ts";
import type { JsonResponse, TestServer } from "./server.ts";

export type Agent = GeneratedIdentity;

export function newAgent(namespace: string, nowMs = Date.now()): Promise<Agent> {
  return generateIdentity(namespace, nowMs);
}

export interface SignedCallOptions {
  apiKey?: string;
  headers?: Record<string, string>;
  /** Unix seconds; defaults to now. */
  created?: number;
  nonce?: string;
  /** URL the signature covers, when it differs from the one requested (proxy cases). */
  signedUrl?: string;
  /** Mutates the signed headers before sending (to build broken requests). */
  tamper?: (headers: Record<string, string>) => void;
  /** Body actually sent, when it differs from the signed one. */
  sentBody?: string;
}

/** Sends a request signed by `agent` (and carrying a service API key when given). */
export async function signedCall<T = unknown>(
  t: TestServer,
  agent: Agent,
  method: string,
  path: string,
  body?: unknown,
  options: SignedCallOptions = {},
): Promise<JsonResponse<T>> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = await signRequest({
    method,
    url: options.signedUrl ?? `${t.url}${path}`,
    headers: {
      ...(text !== undefined ? { "content-type": "application/json" } : {}),
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      ...options.headers,
    },
    body: text,
    identity: agent,
    created: options.created,
    nonce: options.nonce,
  });
  options.tamper?.(headers);
  const res = await fetch(`${t.url}${path}`, { method, headers, body: options.sentBody ?? text });
  const raw = await res.text();
  let parsed: unknown = raw;
  try {
    parsed = raw ? JSON.parse(raw) : null;
  } catch {
    // leave as text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

let counter = 0;

/** The body of POST /v1/claims for `agent` at `service`. */
export function claimBody(agent: Agent, service: string, extra: Record<string, unknown> = {}) {
  counter += 1;
  return {
    namespace: agent.namespace,
    public_key: agent.publicKey,
    service,
    agent_ip: "203.0.113.7",
    nonce: `claim-nonce-${Date.now()}-${counter}`,
    ...extra,
  };
}

export function submitClaim<T = unknown>(
  t: TestServer,
  agent: Agent,
  apiKey: string,
  service: string,
  extra: Record<string, unknown> = {},
  options: SignedCallOptions = {},
) {
  return signedCall<T>(t, agent, "POST", "/v1/claims", claimBody(agent, service, extra), {
    apiKey,
    ...options,
  });
}
