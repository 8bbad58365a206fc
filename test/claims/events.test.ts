import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { CreatedTokenModel } from "../../src/auth/model.ts";
import type { ClaimModel, ClaimWithHistoryModel } from "../../src/claims/model.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { expectError } from "../helpers/assertions.ts";
import { type ApiClient, startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";

type Claim = typeof ClaimModel.static;
type ClaimWithHistory = typeof ClaimWithHistoryModel.static;

interface SseEvent {
  id: string;
  event: string;
  data: Claim;
}

/** Reads a live-update stream in the background and keeps what arrived. */
class EventStream {
  events: SseEvent[] = [];
  comments: string[] = [];
  ended = false;
  private buffer = "";

  constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    void this.pump(response.body!.getReader());
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>) {
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let at = this.buffer.indexOf("\n\n");
        while (at >= 0) {
          this.parse(this.buffer.slice(0, at));
          this.buffer = this.buffer.slice(at + 2);
          at = this.buffer.indexOf("\n\n");
        }
      }
    } catch {
      // Aborted by the test.
    } finally {
      this.ended = true;
    }
  }

  private parse(block: string) {
    const fields: Record<string, string> = {};
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
      else {
        const colon = line.indexOf(":");
        fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
      }
    }
    if (fields.event)
      this.events.push({
        id: fields.id!,
        event: fields.event,
        data: JSON.parse(fields.data!) as Claim,
      });
  }

  /** Waits (bounded) until `ready` holds; false on timeout. */
  async until(ready: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!ready()) {
      if (Date.now() > deadline) return false;
      await Bun.sleep(20);
    }
    return true;
  }

  close() {
    this.abort.abort();
  }
}

async function openStream(
  t: TestServer,
  client: ApiClient,
  namespace: string,
  headers: Record<string, string> = {},
  query = "",
) {
  const abort = new AbortController();
  const response = await fetch(`${t.url}/v1/namespaces/${namespace}/events${query}`, {
    headers: { cookie: `sigilum_session=${client.cookie}`, ...headers },
    signal: abort.signal,
  });
  return new EventStream(response, abort);
}

/** A stream that must not open: its JSON error answer. */
async function refused(client: ApiClient, path: string, headers = {}) {
  return client.get<{ code: string; error: string; request_id: string }>(path, headers);
}

async function newClaim(t: TestServer, s: ServiceSetup): Promise<string> {
  const res = await submitClaim(t, await newAgent(s.namespace), s.apiKey, s.slug);
  if (res.status !== 201) throw new Error(`submit: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { claim_id: string }).claim_id;
}

describe("live updates: GET /v1/namespaces/{ns}/events", () => {
  let t: TestServer;
  const open: EventStream[] = [];
  beforeAll(async () => {
    t = await startTestServer({
      env: { SIGILUM_EVENT_STREAMS_PER_OWNER: "2", SIGILUM_EVENT_HEARTBEAT: "300ms" },
    });
  });
  afterAll(async () => {
    for (const s of open) s.close();
    await t.close();
  });
  const track = (s: EventStream) => {
    open.push(s);
    return s;
  };

  test("a new claim and its approval arrive as claim events carrying the owner's Claim JSON", async () => {
    const s = await ownerWithKey(t);
    const stream = track(await openStream(t, s.client, s.namespace));
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toStartWith("text/event-stream");

    const claimId = await newClaim(t, s);
    expect(await stream.until(() => stream.events.length >= 1, 2000)).toBe(true);
    const [pending] = stream.events;
    expect(pending!.event).toBe("claim");
    expect(pending!.data).toMatchObject({ claim_id: claimId, status: "pending" });
    const shown = await s.client.get<ClaimWithHistory>(`/v1/claims/${claimId}`);
    const { history: _, ...asListed } = shown.body;
    expect(pending!.data).toEqual({ ...asListed, status: "pending" });

    expect((await s.client.post<Claim>(`/v1/claims/${claimId}/approve`, {})).status).toBe(200);
    expect(await stream.until(() => stream.events.length >= 2, 2000)).toBe(true);
    const approved = stream.events[1]!;
    expect(approved.data).toMatchObject({ claim_id: claimId, status: "approved" });
    expect(Number(approved.id)).toBeGreaterThan(Number(pending!.id));
    // Heartbeats keep an idle stream open (every 300 ms here).
    expect(await stream.until(() => stream.comments.includes("heartbeat"), 2000)).toBe(true);
    stream.close();
    // The request log has the stream's line (written when it opened), like any other request.
    const logged = t.logs
      .map((line) => JSON.parse(line) as { msg?: string; route?: string; status?: number })
      .filter((l) => l.route === "/v1/namespaces/:namespace/events" && l.status === 200);
    expect(logged.length).toBeGreaterThan(0);
  });

  test("without Last-Event-ID nothing old is replayed; with it exactly the missed changes come, in order", async () => {
    const s = await ownerWithKey(t);
    const first = await newClaim(t, s);
    const fresh = track(await openStream(t, s.client, s.namespace));
    await Bun.sleep(1300);
    expect(fresh.events).toEqual([]);
    const second = await newClaim(t, s);
    expect(await fresh.until(() => fresh.events.length >= 1, 2000)).toBe(true);
    const lastSeen = fresh.events[0]!;
    expect(lastSeen.data.claim_id).toBe(second);
    fresh.close();

    // Missed while disconnected: a third claim, then the first one's approval.
    const third = await newClaim(t, s);
    expect((await s.client.post<Claim>(`/v1/claims/${first}/approve`, {})).status).toBe(200);
    const resumed = track(
      await openStream(t, s.client, s.namespace, { "last-event-id": lastSeen.id }),
    );
    expect(await resumed.until(() => resumed.events.length >= 2, 2000)).toBe(true);
    await Bun.sleep(1200);
    expect(resumed.events.map((e) => [e.data.claim_id, e.data.status])).toEqual([
      [third, "pending"],
      [first, "approved"],
    ]);
    resumed.close();

    // The query fallback resumes the same way.
    const byQuery = track(
      await openStream(t, s.client, s.namespace, {}, `?last_event_id=${resumed.events[0]!.id}`),
    );
    expect(await byQuery.until(() => byQuery.events.length >= 1, 2000)).toBe(true);
    expect(byQuery.response.status).toBe(200);
    expect(byQuery.events.map((e) => e.data.claim_id)).toEqual([first]);
    byQuery.close();
  });

  test("another namespace's claims never appear", async () => {
    const mine = await ownerWithKey(t);
    const theirs = await ownerWithKey(t);
    const stream = track(await openStream(t, mine.client, mine.namespace));
    await newClaim(t, theirs);
    await Bun.sleep(1200);
    const own = await newClaim(t, mine);
    expect(await stream.until(() => stream.events.length >= 1, 2000)).toBe(true);
    await Bun.sleep(300);
    expect(stream.events.map((e) => e.data.claim_id)).toEqual([own]);
    stream.close();
  });

  test("only the namespace's owner may open it; a bad Last-Event-ID is a 400", async () => {
    const mine = await ownerWithKey(t);
    const other = await ownerWithKey(t);
    expectError(
      await refused(other.client, `/v1/namespaces/${mine.namespace}/events`),
      404,
      "NOT_FOUND",
    );
    const anonymous = await fetch(`${t.url}/v1/namespaces/${mine.namespace}/events`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { code: string }).code).toBe("UNAUTHORIZED");
    expectError(
      await refused(mine.client, `/v1/namespaces/${mine.namespace}/events`, {
        "last-event-id": "not-a-number",
      }),
      400,
      "VALIDATION_ERROR",
    );
  });

  test("at most SIGILUM_EVENT_STREAMS_PER_OWNER streams per owner; closing one frees its place", async () => {
    const s = await ownerWithKey(t);
    const a = track(await openStream(t, s.client, s.namespace));
    const b = track(await openStream(t, s.client, s.namespace));
    expect([a.response.status, b.response.status]).toEqual([200, 200]);
    const third = await refused(s.client, `/v1/namespaces/${s.namespace}/events`);
    expectError(third, 429, "RATE_LIMITED");
    a.close();
    const reopened = await (async () => {
      for (let i = 0; i < 50; i++) {
        const next = await openStream(t, s.client, s.namespace);
        if (next.response.status === 200) return track(next);
        next.close();
        await Bun.sleep(100);
      }
      return null;
    })();
    expect(reopened?.response.status).toBe(200);
    b.close();
    reopened?.close();
  });

  test("a stream whose session is signed out ends within a few seconds", async () => {
    const s = await ownerWithKey(t);
    const stream = track(await openStream(t, s.client, s.namespace));
    expect(stream.response.status).toBe(200);
    await Bun.sleep(200);
    expect(stream.ended).toBe(false);
    const cookie = s.client.cookie;
    expect((await s.client.post<unknown>("/v1/auth/logout")).status).toBeLessThan(300);
    s.client.cookie = cookie;
    expect(await stream.until(() => stream.ended, 3500)).toBe(true);
  });

  test("a stream opened with a personal access token ends when the token is deleted", async () => {
    const s = await ownerWithKey(t);
    const created = await s.client.post<typeof CreatedTokenModel.static>("/v1/auth/tokens", {
      name: "dashboard",
    });
    expect(created.status).toBe(201);
    const stream = track(
      await openStream(t, s.client, s.namespace, {
        cookie: "",
        authorization: `Bearer ${created.body.token}`,
      }),
    );
    expect(stream.response.status).toBe(200);
    const claimId = await newClaim(t, s);
    expect(await stream.until(() => stream.events.length >= 1, 2000)).toBe(true);
    expect(stream.events[0]!.data.claim_id).toBe(claimId);
    expect((await s.client.delete<unknown>(`/v1/auth/tokens/${created.body.id}`)).status).toBe(200);
    expect(await stream.until(() => stream.ended, 3500)).toBe(true);
  });
});

describe("live updates across instances and shutdown", () => {
  test("a change made through another instance on the same database arrives within ~1.5 s", async () => {
    const a = await startTestServer();
    const b = await startTestServer({ dataDir: a.dataDir });
    try {
      const s = await ownerWithKey(a);
      const stream = await openStream(a, s.client, s.namespace);
      await Bun.sleep(100);
      const claimId = await newClaim(b, s);
      const sent = Date.now();
      expect(await stream.until(() => stream.events.length >= 1, 1500)).toBe(true);
      expect(stream.events[0]!.data).toMatchObject({ claim_id: claimId, status: "pending" });
      const viaB = new (s.client.constructor as typeof ApiClient)(b.url, b.origin);
      viaB.cookie = s.client.cookie;
      expect((await viaB.post<Claim>(`/v1/claims/${claimId}/reject`, {})).status).toBe(200);
      expect(await stream.until(() => stream.events.length >= 2, 1500)).toBe(true);
      expect(stream.events[1]!.data.status).toBe("rejected");
      expect(Date.now() - sent).toBeLessThan(4000);
      stream.close();
    } finally {
      await b.close();
      await a.close();
    }
  });

  test("closing the server ends open streams instead of waiting on them", async () => {
    const t = await startTestServer();
    const s = await ownerWithKey(t);
    const stream = await openStream(t, s.client, s.namespace);
    expect(stream.response.status).toBe(200);
    const closing = t.close().then(() => "closed" as const);
    const timeout = Bun.sleep(5000).then(() => "timed out" as const);
    expect(await Promise.race([closing, timeout])).toBe("closed");
    expect(await stream.until(() => stream.ended, 2000)).toBe(true);
  });
});
