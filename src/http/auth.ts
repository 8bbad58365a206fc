import { type Cookie, type DocumentDecoration, Elysia } from "elysia";
import { authenticateOwnerRequest, type Principal } from "../auth/index.ts";
import type { AppContext } from "../context.ts";
import { type AuthenticatedKey, presentsApiKey, requireApiKey } from "../services/index.ts";
import type { VerifiedAgent } from "../signing/index.ts";
import {
  type SignatureBinding,
  verifyAgentRequest,
  verifyPresentedSignature,
} from "./agentSignature.ts";
import { unauthorized } from "./errors.ts";

/**
 * How each route authenticates, declared in its options (http-api.md §1.5):
 * - `{ owner: true }` — session cookie (CSRF-checked) or personal access token → `principal`;
 * - `{ apiKey: use }` — the service API key, counted per use (KEY_USES) → `apiKey`;
 * - `{ agent: "claim" }` — the agent signature, required and bound to the claim the body names;
 *   `{ agent: "presented" }` — verified only when presented, bound to the namespace the path or
 *   body names (none on the feed, which spans namespaces) → `agent` (or null);
 * - `{ auth: [...] }` — any one of the listed credentials (runtime reads) → `apiKey`, `agent`,
 *   `principal`, each null unless it authenticated the request.
 * Options combine in the order written: `{ apiKey: "claims", agent: "claim" }` checks the key first.
 */
export type Credential = "apiKey" | "agent" | "owner";
/** The credential unions runtime reads accept: a service or its agent, or also the owner. */
export type AnyOf = readonly ["apiKey", "agent"] | readonly ["apiKey", "agent", "owner"];

/**
 * Per use of a service API key: its per-minute limit, the bucket it is counted in, and whether it
 * is checked before the body is validated (POST routes: a stranger's bad body is a 401, not 400).
 */
const KEY_USES = {
  claims: { perMinute: "rateLimitClaims", bucket: "key", beforeBody: true },
  // Its own bucket: a gateway reports every call it proxies, and those reports must not use up
  // the budget of its claim submissions (or the other way round).
  usage: { perMinute: "rateLimitClaims", bucket: "usage", beforeBody: true },
  feed: { perMinute: "rateLimitVerify", bucket: "key", beforeBody: false },
} as const;
export type KeyUse = keyof typeof KEY_USES;

/** Credentials checked before body validation (transform), handed to the route in `resolve`. */
interface Checked {
  principal?: Principal;
  apiKey?: AuthenticatedKey;
  agent?: VerifiedAgent;
}
const checkedEarly = new WeakMap<Request, Checked>();
function remember(request: Request, found: Checked): void {
  checkedEarly.set(request, { ...checkedEarly.get(request), ...found });
}
function recalled(request: Request): Checked {
  return checkedEarly.get(request) ?? {};
}

/**
 * Step 6's binding (signing.md §5) read from the body before it is validated: only string fields
 * bind (normalised as the handler will); anything else is left to the validation that follows.
 */
function claimBinding(request: Request, body: unknown): SignatureBinding {
  const field = (name: string) => {
    const value = (body as Record<string, unknown> | undefined)?.[name];
    return typeof value === "string" ? value.trim() : undefined;
  };
  const namespaceOnly =
    request.headers.get("x-sigilum-claim-binding")?.trim().toLowerCase() === "namespace-only";
  return {
    expectedNamespace: field("namespace")?.toLowerCase(),
    expectedKey: namespaceOnly ? undefined : field("public_key"),
  };
}

/** The (validated) namespace the path or body names, which a presented signature must match. */
function namedNamespace(params: unknown, body: unknown): string | undefined {
  const named = (params as { namespace?: string } | undefined)?.namespace ?? bodyNamespace(body);
  return named?.trim().toLowerCase();
}
function bodyNamespace(body: unknown): string | undefined {
  const value = (body as { namespace?: unknown } | null | undefined)?.namespace;
  return typeof value === "string" ? value : undefined;
}

/** What a runtime read is about: the path's namespace, else the query's. */
interface NamedBy {
  params: unknown;
  query: unknown;
}
function askedNamespace(params: unknown, query: unknown): string | undefined {
  return (
    namedNamespace(params, undefined) ??
    (query as { namespace?: string }).namespace?.trim().toLowerCase()
  );
}

interface RequestParts {
  request: Request;
  cookie: Record<string, Cookie<unknown>>;
}

/**
 * Runtime reads (verify, namespace facts): a presented API key must verify, and so must presented
 * signature headers, bound to the namespace asked about; with neither, owner credentials when the
 * route accepts them, else 401.
 */
async function anyOf(
  ctx: AppContext,
  accepted: AnyOf,
  { request, cookie }: RequestParts,
  namespace: string | undefined,
) {
  const apiKey = presentsApiKey(request)
    ? await requireApiKey(ctx, request, ctx.config.rateLimitVerify)
    : null;
  const agent = await verifyPresentedSignature(ctx, request, { expectedNamespace: namespace });
  let principal: Principal | null = null;
  if (!apiKey && !agent) {
    if (!(accepted as readonly Credential[]).includes("owner"))
      throw unauthorized("A service API key or an agent signature is required");
    principal = await authenticateOwnerRequest(ctx, request, cookie);
  }
  return { apiKey, agent, principal };
}

/** Where a route's declared auth is recorded (Elysia deep-merges `detail` across macros). */
export const AUTH_DETAIL = "x-sigilum-auth";

// An OpenAPI extension field, which the operation type of openapi-types does not declare.
function declared(auth: DeclaredAuth): DocumentDecoration {
  return { [AUTH_DETAIL]: auth } as DocumentDecoration;
}

/**
 * The one place requests are authenticated. Each macro also records what the route declared in
 * its `detail`, from which the OpenAPI generator emits the operation's `security`.
 */
export function authPlugin(ctx: AppContext) {
  return new Elysia({ name: "authentication" }).macro({
    owner: {
      detail: declared({ owner: true }),
      // Before body validation: an unauthenticated or cross-site call gets 401/403 whatever its body.
      async transform({ request, cookie }) {
        remember(request, {
          principal: await authenticateOwnerRequest(ctx, request, cookie),
        });
      },
      resolve: ({ request }) => ({ principal: recalled(request).principal as Principal }),
    },
    apiKey: (use: KeyUse) => {
      const { perMinute, bucket, beforeBody } = KEY_USES[use];
      const check = (request: Request) =>
        requireApiKey(ctx, request, ctx.config[perMinute], bucket);
      return {
        detail: declared({ apiKey: use }),
        async transform({ request }: { request: Request }) {
          if (beforeBody) remember(request, { apiKey: await check(request) });
        },
        resolve: async ({ request }: { request: Request }) => ({
          apiKey: recalled(request).apiKey ?? (await check(request)),
        }),
      };
    },
    agent: (mode: "claim" | "presented") => ({
      detail: declared({ agent: mode }),
      // The claim's signature is checked before the body is validated (http-api.md §5).
      async transform({ request, body }: { request: Request; body: unknown }) {
        if (mode === "claim")
          remember(request, {
            agent: await verifyAgentRequest(ctx, request, claimBinding(request, body)),
          });
      },
      resolve: async ({
        request,
        params,
        body,
      }: {
        request: Request;
        params: unknown;
        body: unknown;
      }) => ({
        agent:
          mode === "claim"
            ? (recalled(request).agent as VerifiedAgent)
            : await verifyPresentedSignature(ctx, request, {
                expectedNamespace: namedNamespace(params, body),
              }),
      }),
    }),
    auth: (accepted: AnyOf) => ({
      detail: declared({ anyOf: accepted }),
      // Elysia parses the cookie header only for routes whose hooks name `cookie`, so the
      // service-and-agent routes (verify: the hottest path) get a resolver that never does.
      resolve: (accepted as readonly Credential[]).includes("owner")
        ? ({ request, cookie, params, query }: RequestParts & NamedBy) =>
            anyOf(ctx, accepted, { request, cookie }, askedNamespace(params, query))
        : ({ request, params, query }: Omit<RequestParts, "cookie"> & NamedBy) =>
            anyOf(ctx, accepted, { request, cookie: {} }, askedNamespace(params, query)),
    }),
  });
}

/** What a route declared, as recorded in its `detail` by the macros above. */
export interface DeclaredAuth {
  owner?: true;
  apiKey?: KeyUse;
  agent?: "claim" | "presented";
  anyOf?: AnyOf;
}

/** OpenAPI security schemes for http-api.md §1.5's four modes. */
export const securitySchemes = {
  session: {
    type: "apiKey",
    in: "cookie",
    name: "sigilum_session",
    description: "Owner session cookie; unsafe methods need a same-origin Origin (CSRF)",
  },
  personalAccessToken: {
    type: "http",
    scheme: "bearer",
    description: "Owner personal access token: Authorization: Bearer sgl_pat_…",
  },
  serviceApiKey: {
    type: "http",
    scheme: "bearer",
    description: "Service API key: Authorization: Bearer sgl_sk_…",
  },
  agentSignature: {
    type: "apiKey",
    in: "header",
    name: "signature",
    description:
      "RFC 9421 agent signature (Sigilum profile): signature, signature-input and sigilum-* headers",
  },
} as const;

type SecurityRequirement = Partial<Record<keyof typeof securitySchemes, string[]>>;

const OWNER: SecurityRequirement[] = [{ session: [] }, { personalAccessToken: [] }];
const ALTERNATIVES: Record<Credential, SecurityRequirement[]> = {
  apiKey: [{ serviceApiKey: [] }],
  agent: [{ agentSignature: [] }],
  owner: OWNER,
};

/**
 * The OpenAPI `security` of a route: alternatives, each a set of schemes all required. A
 * signature verified only when presented is not a requirement, so it is not listed.
 */
export function securityOf(declared: DeclaredAuth | undefined): SecurityRequirement[] {
  if (declared?.owner) return OWNER;
  if (declared?.anyOf) return declared.anyOf.flatMap((credential) => ALTERNATIVES[credential]);
  if (declared?.apiKey)
    return [
      declared.agent === "claim"
        ? { serviceApiKey: [], agentSignature: [] }
        : { serviceApiKey: [] },
    ];
  return [];
}
