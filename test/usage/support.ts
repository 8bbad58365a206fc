import { ApiClient, type JsonResponse, type TestServer } from "../helpers/server.ts";
import type { UsageAccepted } from "../helpers/types.ts";

let counter = 0;

/** A fresh event id (unique across the run). */
export function eventId(prefix = "evt"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

/**
 * The body the reference gateway sends for one proxied request (every field it knows, plus one
 * it may add later: unknown fields are ignored).
 */
export function gatewayEvent(
  namespace: string,
  service: string,
  publicKey: string,
  extra: Record<string, unknown> = {},
) {
  return {
    event_id: eventId(),
    namespace,
    service,
    public_key: publicKey,
    subject: "alice@example.com",
    protocol: "http",
    action: "GET /repos",
    outcome: "success",
    agent_id: "agent-1",
    status_code: 200,
    duration_ms: 12,
    response_bytes: 345,
    request_method: "GET",
    request_path: "/repos",
    remote_ip: "203.0.113.9",
    extra_field: "ignored",
    ...extra,
  };
}

/** A client that presents only a service API key (no cookie, no Origin). */
export function serviceClient(t: TestServer, apiKey: string): ApiClient {
  const client = new ApiClient(t.url, null);
  client.bearer = apiKey;
  return client;
}

export function report<T = UsageAccepted>(
  client: ApiClient,
  body: unknown,
): Promise<JsonResponse<T>> {
  return client.post<T>("/v1/usage/events", body);
}

export async function usageRows(t: TestServer, where = "1 = 1", args: (string | number)[] = []) {
  const rs = await t.server.ctx.database.client.execute({
    sql: `SELECT * FROM usage_events WHERE ${where} ORDER BY id`,
    args,
  });
  return rs.rows.map((r) => ({ ...r }));
}
