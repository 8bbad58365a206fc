/**
 * The official SDKs (TypeScript, Python, Go) must work unchanged (signing.md §4, http-api.md §1.1).
 * Each request here is written byte for byte onto the socket the way that SDK's default HTTP
 * stack writes it — its Content-Type (or none), its header-name casing, its raw query and Host —
 * and signed over the URL exactly as that SDK serialises it, by a signer that never uses
 * WHATWG `URL` (test/signing/support.ts's node:crypto signer).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Agent, newAgent } from "../helpers/agent.ts";
import { expectError } from "../helpers/assertions.ts";
import { type RawResponse, rawHttp } from "../helpers/rawHttp.ts";
import { startTestServer, type TestServer, uniqueName } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type {
  ApiErrorBody,
  Claim,
  ClaimSubmitted,
  Feed,
  NamespaceInfo,
  VerifyAnswer,
} from "../helpers/types.ts";
import { identityHeaders, nodeDigest, signCustom } from "../signing/support.ts";

type HeaderList = [string, string][];

interface Transport {
  name: string;
  /** How this client's HTTP stack spells a header name on the wire. */
  headerName(name: string): string;
  /** What the stack adds by itself for a request with this body. */
  defaults(body: string | undefined): HeaderList;
}

const length = (body: string | undefined): HeaderList =>
  body ? [["content-length", String(Buffer.byteLength(body))]] : [];

/** TypeScript SDK: `fetch` with a string body, which makes it text/plain;charset=UTF-8. */
const TYPESCRIPT: Transport = {
  name: "TypeScript (fetch, string body)",
  headerName: (n) => n,
  defaults: (body) => [
    ...(body ? ([["content-type", "text/plain;charset=UTF-8"]] as HeaderList) : []),
    ...length(body),
    ["accept", "*/*"],
    ["user-agent", "node"],
    ["accept-encoding", "gzip, deflate"],
  ],
};

/** Python SDK: urllib.request, which adds a form Content-Type to any POST data and capitalises names. */
const PYTHON: Transport = {
  name: "Python (urllib)",
  headerName: (n) => n.charAt(0).toUpperCase() + n.slice(1).toLowerCase(),
  defaults: (body) => [
    ...(body ? ([["content-type", "application/x-www-form-urlencoded"]] as HeaderList) : []),
    ...length(body),
    ["accept-encoding", "identity"],
    ["user-agent", "Python-urllib/3.12"],
  ],
};

/** Go SDK: http.NewRequest with a body and no Content-Type; canonical MIME header names. */
const GO: Transport = {
  name: "Go (net/http, no Content-Type)",
  headerName: (n) =>
    n.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()),
  defaults: (body) => [
    ["user-agent", "Go-http-client/1.1"],
    ...length(body),
    ["accept-encoding", "gzip"],
  ],
};

const TRANSPORTS = [TYPESCRIPT, PYTHON, GO];

interface SdkCall {
  method: "GET" | "POST";
  /** The request-target exactly as written on the request line. */
  target: string;
  /** The Host header exactly as sent; defaults to the server's `127.0.0.1:port`. */
  host?: string;
  /** The URL exactly as the SDK signs it; defaults to `http://<host><target>`. */
  signedUrl?: string;
  body?: unknown;
  apiKey?: string;
  agentId?: string;
  extra?: HeaderList;
}

/** Signs like an SDK (over its own URL text) and sends like its HTTP stack (raw bytes). */
async function sdkCall<T = unknown>(
  t: TestServer,
  agent: Agent,
  transport: Transport,
  call: SdkCall,
): Promise<RawResponse<T>> {
  const host = call.host ?? new URL(t.url).host;
  const body = call.body === undefined ? undefined : JSON.stringify(call.body);
  const covered: Record<string, string> = {
    ...identityHeaders(agent),
    ...(body ? { "content-digest": nodeDigest(body) } : {}),
    ...(call.agentId ? { "sigilum-agent-id": call.agentId } : {}),
  };
  const components = [
    "@method",
    "@target-uri",
    ...(body ? ["content-digest"] : []),
    "sigilum-namespace",
    "sigilum-subject",
    ...(call.agentId ? ["sigilum-agent-id"] : []),
    "sigilum-agent-key",
    "sigilum-agent-cert",
  ];
  const signed = signCustom({
    identity: agent,
    method: call.method,
    targetUri: call.signedUrl ?? `http://${host}${call.target}`,
    headers: covered,
    components,
    created: Math.floor(Date.now() / 1000),
    nonce: crypto.randomUUID(),
  });
  const headers: HeaderList = [
    ["host", host],
    ...transport.defaults(body),
    ...(call.apiKey ? ([["authorization", `Bearer ${call.apiKey}`]] as HeaderList) : []),
    ...[...signed.entries()],
    ...(call.extra ?? []),
  ];
  const wire = headers.map(([n, v]): [string, string] => [transport.headerName(n), v]);
  return rawHttp<T>(t.url, `${call.method} ${call.target} HTTP/1.1`, wire, body);
}

let t: TestServer;
let s: ServiceSetup;

beforeAll(async () => {
  t = await startTestServer();
  s = await ownerWithKey(t);
});
afterAll(() => t.close());

function claimFor(agent: Agent, extra: Record<string, unknown> = {}) {
  return {
    namespace: agent.namespace,
    public_key: agent.publicKey,
    service: s.slug,
    agent_ip: "203.0.113.9",
    nonce: `sdk-${crypto.randomUUID()}`,
    ...extra,
  };
}

async function storedClaim(publicKey: string) {
  const rs = await t.server.ctx.database.client.execute({
    sql: "SELECT public_key, agent_id, status FROM claims WHERE public_key = ?",
    args: [publicKey],
  });
  return rs.rows.map((r) => ({ public_key: r.public_key, agent_id: r.agent_id, status: r.status }));
}

describe("POST /v1/claims from each SDK's default transport", () => {
  test.each(TRANSPORTS)("$name → 201, whatever the Content-Type", async (transport) => {
    const agent = await newAgent(s.namespace);
    const res = await sdkCall<ClaimSubmitted>(t, agent, transport, {
      method: "POST",
      target: "/v1/claims",
      body: claimFor(agent),
      apiKey: s.apiKey,
    });
    expect({ status: res.status, body: res.body }).toMatchObject({
      status: 201,
      body: { status: "pending", public_key: agent.publicKey },
    });
    expect(await storedClaim(agent.publicKey)).toHaveLength(1);
  });

  test("malformed JSON under a non-JSON Content-Type is still 400 INVALID_JSON", async () => {
    const res = await rawHttp(
      t.url,
      "POST /v1/claims HTTP/1.1",
      [
        ["Host", new URL(t.url).host],
        ["Content-Type", "application/x-www-form-urlencoded"],
        ["Content-Length", "7"],
        ["Authorization", `Bearer ${s.apiKey}`],
      ],
      "a=1&b=2",
    );
    expectError(res, 400, "INVALID_JSON");
  });

  test("the reference gateway: namespace-only binding, sigilum-agent-id, no Content-Type → 201", async () => {
    const gateway = await newAgent(s.namespace);
    const agent = await newAgent(s.namespace);
    const res = await sdkCall<ClaimSubmitted>(t, gateway, GO, {
      method: "POST",
      target: "/v1/claims",
      body: claimFor(agent, { agent_id: "agent-7", subject: "user-42" }),
      apiKey: s.apiKey,
      agentId: "agent-7",
      extra: [["x-sigilum-claim-binding", "namespace-only"]],
    });
    expect(res.status).toBe(201);
    expect(res.body.public_key).toBe(agent.publicKey);
    expect(await storedClaim(agent.publicKey)).toEqual([
      { public_key: agent.publicKey, agent_id: "agent-7", status: "pending" },
    ]);
  });
});

describe("owner routes keep 415 for what the SDK transports send", () => {
  const body = () => JSON.stringify({ slug: uniqueName("ct"), name: "Content type" });

  test.each([["text/plain;charset=UTF-8"], ["application/x-www-form-urlencoded"], [null]])(
    "POST /v1/services with Content-Type %p → 415 UNSUPPORTED_MEDIA_TYPE",
    async (type) => {
      const text = body();
      const headers: HeaderList = [
        ["Host", new URL(t.url).host],
        ["Cookie", `sigilum_session=${s.client.cookie}`],
        ["Origin", t.url],
        ["Content-Length", String(Buffer.byteLength(text))],
      ];
      if (type) headers.push(["Content-Type", type]);
      const res = await rawHttp(t.url, "POST /v1/services HTTP/1.1", headers, text);
      expectError(res, 415, "UNSUPPORTED_MEDIA_TYPE");
    },
  );
});

describe("@target-uri as the Go and Python SDKs serialise it (raw ', host case kept)", () => {
  test.each([GO, PYTHON])("$name: GET /v1/namespaces/{ns}?q=it's → 200", async (transport) => {
    const agent = await newAgent(s.namespace);
    const res = await sdkCall<NamespaceInfo>(t, agent, transport, {
      method: "GET",
      target: `/v1/namespaces/${s.namespace}?q=it's`,
    });
    expect({ status: res.status, body: res.body }).toMatchObject({
      status: 200,
      body: { namespace: s.namespace },
    });
  });

  test("Python with an upper-case host: Host: LOCALHOST:port, signed as given → 200", async () => {
    const agent = await newAgent(s.namespace);
    const port = new URL(t.url).port;
    const res = await sdkCall<VerifyAnswer>(t, agent, PYTHON, {
      method: "GET",
      target: `/v1/verify?namespace=${s.namespace}&service=${s.slug}&note=it's`,
      host: `LOCALHOST:${port}`,
    });
    expect({ status: res.status, body: res.body }).toMatchObject({
      status: 200,
      body: { authorized: false, status: "none" },
    });
  });

  test("the WHATWG form still verifies: signed %27, sent %27 → 200", async () => {
    const agent = await newAgent(s.namespace);
    const res = await sdkCall<NamespaceInfo>(t, agent, TYPESCRIPT, {
      method: "GET",
      target: `/v1/namespaces/${s.namespace}?q=it%27s`,
    });
    expect(res.status).toBe(200);
  });

  test("signed with a raw ' but another query sent → 401 SIGNATURE_INVALID", async () => {
    const agent = await newAgent(s.namespace);
    const res = await sdkCall<ApiErrorBody>(t, agent, GO, {
      method: "GET",
      target: `/v1/namespaces/${s.namespace}?q=its`,
      signedUrl: `http://${new URL(t.url).host}/v1/namespaces/${s.namespace}?q=it's`,
    });
    expectError(res, 401, "SIGNATURE_INVALID");
  });

  test("signed for another host than the Host sent → 401 SIGNATURE_INVALID", async () => {
    const agent = await newAgent(s.namespace);
    const port = new URL(t.url).port;
    const res = await sdkCall<ApiErrorBody>(t, agent, PYTHON, {
      method: "GET",
      target: `/v1/namespaces/${s.namespace}?q=it's`,
      signedUrl: `http://OTHER.example:${port}/v1/namespaces/${s.namespace}?q=it's`,
    });
    expectError(res, 401, "SIGNATURE_INVALID");
  });
});

describe("feed polling as the SDKs do it: limit=500, service=<slug>, signed + Bearer", () => {
  let approved: string;
  beforeAll(async () => {
    const agent = await newAgent(s.namespace);
    const submitted = await sdkCall<ClaimSubmitted>(t, agent, GO, {
      method: "POST",
      target: "/v1/claims",
      body: claimFor(agent),
      apiKey: s.apiKey,
    });
    approved = submitted.body.claim_id;
    expect((await s.client.post<Claim>(`/v1/claims/${approved}/approve`)).status).toBe(200);
  });

  test.each(TRANSPORTS)("$name → 200 with the approved claim", async (transport) => {
    const agent = await newAgent(s.namespace);
    const res = await sdkCall<Feed>(t, agent, transport, {
      method: "GET",
      target: `/v1/namespaces/claims?limit=500&service=${s.slug}`,
      apiKey: s.apiKey,
      host: transport === PYTHON ? `LocalHost:${new URL(t.url).port}` : undefined,
    });
    expect(res.status).toBe(200);
    expect(res.body.pagination.limit).toBe(500);
    expect(res.body.claims.map((c: { claim_id: string }) => c.claim_id)).toContain(approved);
  });
});

describe("behind SIGILUM_PUBLIC_URL the fallback keeps the public origin", () => {
  const PUBLIC = "https://registry.example.com";
  let pub: TestServer;
  let setup: ServiceSetup;
  beforeAll(async () => {
    pub = await startTestServer({ env: { SIGILUM_PUBLIC_URL: PUBLIC } });
    setup = await ownerWithKey({ ...pub, origin: PUBLIC });
  });
  afterAll(() => pub.close());

  const get = async (signedUrl: string, host?: string) =>
    sdkCall<NamespaceInfo>(pub, await newAgent(setup.namespace), GO, {
      method: "GET",
      target: `/v1/namespaces/${setup.namespace}?q=it's`,
      signedUrl,
      host,
    });

  test("signed for the public URL with a raw ', sent to loopback → 200", async () => {
    const res = await get(`${PUBLIC}/v1/namespaces/${setup.namespace}?q=it's`);
    expect(res.status).toBe(200);
  });

  test("the public host in another case, passed on by a Host-preserving proxy → 200", async () => {
    const upper = "https://Registry.Example.com";
    const res = await get(
      `${upper}/v1/namespaces/${setup.namespace}?q=it's`,
      "Registry.Example.com",
    );
    expect(res.status).toBe(200);
  });

  test("signed for the loopback URL the request reached → 401 SIGNATURE_INVALID", async () => {
    const res = await get(`${pub.url}/v1/namespaces/${setup.namespace}?q=it's`);
    expectError(res, 401, "SIGNATURE_INVALID");
  });
});
