// Type-checked by `npm run check:openapi` against the client types openapi-typescript generates
// from /openapi.json (.tmp/openapi/api.d.ts): if the description drifts from what clients need,
// this stops compiling. It is never run.
import type { operations, paths } from "../../.tmp/openapi/api.d.ts";

type JsonBody<Op> = Op extends { requestBody?: { content: { "application/json": infer B } } }
  ? B
  : never;
type JsonAnswer<Op, Status extends number> = Op extends {
  responses: { [S in Status]: { content: { "application/json": infer A } } };
}
  ? A
  : never;
type ErrorBody = JsonAnswer<operations["createService"], 409>;

/** A minimal typed call: the path and method pick the body and answer types. */
async function call<Op>(method: string, url: string, body?: JsonBody<Op>): Promise<unknown> {
  const res = await fetch(url, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

export async function registerService(base: string) {
  const body: JsonBody<paths["/v1/services"]["post"]> = { slug: "billing", name: "Billing" };
  const created = (await call<operations["createService"]>("POST", `${base}/v1/services`, body)) as
    | JsonAnswer<operations["createService"], 201>
    | ErrorBody;
  if ("code" in created) return created.request_id;
  const id: string = created.id;
  const keys: number = created.active_key_count;
  return `${id}:${keys}`;
}

export async function submitClaim(base: string) {
  const body: JsonBody<operations["submitClaim"]> = {
    namespace: "alice",
    public_key: "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    service: "billing",
    agent_ip: "203.0.113.9",
    nonce: "n-0123456789",
    subject: "ticket-42",
  };
  const created = (await call<operations["submitClaim"]>("POST", `${base}/v1/claims`, body)) as
    | JsonAnswer<operations["submitClaim"], 201>
    | JsonAnswer<operations["submitClaim"], 200>;
  const status: "pending" | "approved" | "rejected" | "revoked" | "expired" = created.status;
  return { id: created.claim_id, status, key: created.agent_key, message: created.message };
}

export async function verify(base: string) {
  const query: NonNullable<operations["verifyAuthorization"]["parameters"]["query"]> = {
    namespace: "alice",
    service: "billing",
  };
  const answer = (await call<operations["verifyAuthorization"]>(
    "GET",
    `${base}/v1/verify?${new URLSearchParams(query as Record<string, string>)}`,
  )) as JsonAnswer<operations["verifyAuthorization"], 200>;
  if (answer.authorized) {
    const claimId: string = answer.claim_id;
    return claimId;
  }
  const reason: string | null = answer.reason;
  return reason;
}

export async function pageThroughServices(base: string) {
  const query: NonNullable<operations["listServices"]["parameters"]["query"]> = {
    limit: 200,
    offset: 0,
  };
  const list = (await call<operations["listServices"]>(
    "GET",
    `${base}/v1/services?limit=${query.limit}&offset=${query.offset}`,
  )) as JsonAnswer<operations["listServices"], 200>;
  const total: number = list.pagination.total;
  return list.services.map((s) => s.slug).concat(String(total));
}
