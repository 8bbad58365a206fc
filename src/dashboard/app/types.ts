// Response shapes of the public API (http-api.md), as the dashboard reads them.
import type { Pagination } from "./api.ts";

export interface User {
  id: string;
  namespace: string;
  did: string;
  email: string;
  created_at: string;
  has_password: boolean;
  passkey_count: number;
}

export type ClaimStatus = "pending" | "approved" | "rejected" | "revoked" | "expired";

export interface Claim {
  claim_id: string;
  namespace: string;
  service: string;
  service_id: string | null;
  public_key: string;
  agent_key: string;
  agent_ip: string;
  subject: string | null;
  agent_id: string | null;
  agent_name: string | null;
  status: ClaimStatus;
  reason: string | null;
  created_at: string;
  decided_at: string | null;
  approved_at: string | null;
  revoked_at: string | null;
}

export interface Transition {
  from: string | null;
  to: string;
  at: string;
  actor: string;
  reason: string | null;
}

export interface Service {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  created_at: string;
  updated_at: string;
  active_key_count?: number;
  webhook_count?: number;
}

export interface ApiKey {
  id: string;
  name: string | null;
  prefix: string;
  environment: string;
  status: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

export interface CreatedKey {
  key: string;
  id: string;
  prefix: string;
  name: string | null;
  environment: string;
  created_at: string;
  expires_at: string | null;
}

export interface Webhook {
  id: string;
  service_id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
  last_success_at: string | null;
  last_failure_at: string | null;
  consecutive_failures: number;
  secret_rotated_at: string | null;
}

export interface Delivery {
  id: string;
  event_id: string;
  event: string;
  status: string;
  attempt_count: number;
  next_attempt_at: string | null;
  created_at: string;
  completed_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
}

export interface Attempt {
  attempt: number;
  started_at: string;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
}

export interface Session {
  id: string;
  created_at: string;
  last_renewed_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

export interface Token {
  id: string;
  name: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface Passkey {
  id: string;
  name: string | null;
  created_at: string;
  last_used_at?: string | null;
}

export type Page<K extends string, T> = { [key in K]: T[] } & { pagination: Pagination };

export const EVENT_CATALOG = [
  "request.submitted",
  "request.approved",
  "request.rejected",
  "request.revoked",
  "request.expired",
] as const;
export const DEFAULT_EVENTS = EVENT_CATALOG.slice(0, 4);
