import { and, asc, eq, gt } from "drizzle-orm";
import { type Principal, stillAuthenticated } from "../auth/index.ts";
import type { AppContext } from "../context.ts";
import { type ClaimRow, claims } from "../db/schema.ts";
import { ApiError, validationError } from "../http/errors.ts";
import { latestChangeSeq } from "./lifecycle.ts";
import { claimView } from "./view.ts";

/** dashboard.md §3: another instance's change arrives within this, without a local wake-up. */
const POLL_MS = 1000;
const PAGE = 200;
/** Events queued for a client that does not read before its stream is ended. */
const MAX_QUEUED = 5000;
const encoder = new TextEncoder();

/** One open stream, as its namespace's feed sees it. */
interface Subscriber {
  /** The change number of the last event sent (or where the stream started). */
  cursor: number;
  send(rows: ClaimRow[]): void;
  /** Once per poll: ends the stream if its session or token is gone. */
  recheck(): void;
}

/**
 * The shared poller of one namespace: every stream of the namespace reads through it, so a
 * namespace costs one indexed range query per second (claims_owner_seq_idx), not one per stream.
 * Local commits wake it at once; the timer catches other instances' commits. Change numbers
 * follow commit order (lifecycle.ts), so `change_seq > cursor` misses nothing.
 */
class NamespaceFeed {
  readonly subscribers = new Set<Subscriber>();
  private readonly timer: ReturnType<typeof setInterval>;
  private reading: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly ctx: AppContext,
    private readonly ownerId: string,
  ) {
    this.timer = setInterval(() => {
      this.wake();
      for (const s of this.subscribers) s.recheck();
    }, POLL_MS);
    this.timer.unref?.();
  }

  /** Reads now; a wake-up during a read makes it read once more afterwards. */
  wake(): void {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readNew()
      .catch((err) =>
        this.ctx.logger.warn("event stream read failed", { error: (err as Error).message }),
      )
      .finally(() => {
        this.reading = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async readNew(): Promise<void> {
    for (let page = 0; page < 50 && this.subscribers.size > 0; page++) {
      // Only the streams the query was sized for: one joining meanwhile may need older rows,
      // and gets them from the read its joining asked for.
      const readers = [...this.subscribers];
      const from = Math.min(...readers.map((s) => s.cursor));
      const rows = await changesAfter(this.ctx, this.ownerId, from);
      for (const s of readers) {
        if (!this.subscribers.has(s)) continue;
        const unseen = rows.filter((row) => row.changeSeq > s.cursor);
        if (unseen.length > 0) s.send(unseen);
      }
      if (rows.length < PAGE) return;
    }
  }
}

/** The namespace's claims changed after change number `from`, in change order (one page). */
export function changesAfter(ctx: AppContext, ownerId: string, from: number) {
  return ctx.database.db
    .select()
    .from(claims)
    .where(and(eq(claims.ownerId, ownerId), gt(claims.changeSeq, from)))
    .orderBy(asc(claims.changeSeq))
    .limit(PAGE);
}

/** `Last-Event-ID` (or `last_event_id`): a change number, else null (start at the present). */
export function resumeFrom(header: string | null, query: string | undefined): number | null {
  const raw = header?.trim() || query?.trim();
  if (!raw) return null;
  if (!/^\d{1,15}$/.test(raw))
    throw validationError("Last-Event-ID", "must be a change number (a non-negative integer)");
  return Number(raw);
}

/** One `claim` event: the owner routes' Claim JSON, numbered with its change. */
function claimEvent(row: ClaimRow): string {
  return `id: ${row.changeSeq}\nevent: claim\ndata: ${JSON.stringify(claimView(row))}\n\n`;
}

/**
 * The live-update streams of this instance (dashboard.md §3), one shared feed per namespace with
 * open streams. `changed` is called where claim changes commit; `closeAll` ends every stream so
 * the server's graceful stop does not wait on them.
 */
export class ClaimStreams {
  private readonly feeds = new Map<string, NamespaceFeed>();
  private closed = false;
  private readonly open = new Set<() => void>();

  constructor(private readonly ctx: () => AppContext) {}

  /** A local claim change committed: wake the namespace's feed now. */
  changed(ownerId: string): void {
    this.feeds.get(ownerId)?.wake();
  }

  closeAll(): void {
    this.closed = true;
    for (const end of [...this.open]) end();
  }

  /** How many streams an owner has open on this instance. */
  openFor(ownerId: string): number {
    return this.feeds.get(ownerId)?.subscribers.size ?? 0;
  }

  async stream(principal: Principal, resume: number | null, signal: AbortSignal) {
    const ctx = this.ctx();
    const ownerId = principal.owner.id;
    const start = resume ?? (await latestChangeSeq(ctx.database.db));
    // Checked after the last await: the stream below joins its feed synchronously, so
    // concurrent requests cannot both take the last place.
    if (this.openFor(ownerId) >= ctx.config.eventStreamsPerOwner)
      throw new ApiError(
        429,
        "RATE_LIMITED",
        `At most ${ctx.config.eventStreamsPerOwner} open event streams per owner; close one first`,
        undefined,
        { "retry-after": "5" },
      );
    return new Response(this.body(ctx, principal, start, signal), {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        // Reverse proxies (nginx) must pass events through as they come.
        "x-accel-buffering": "no",
      },
    });
  }

  private body(ctx: AppContext, principal: Principal, start: number, signal: AbortSignal) {
    const ownerId = principal.owner.id;
    let ended = false;
    let checking = false;
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let subscriber: Subscriber | undefined;
    let end = () => {};
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        const write = (text: string) => {
          if (ended) return;
          // A client this far behind is not reading: end it; it can resume with Last-Event-ID.
          if ((controller.desiredSize ?? 0) < -MAX_QUEUED) return end();
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            end();
          }
        };
        end = () => {
          if (ended) return;
          ended = true;
          clearInterval(heartbeat);
          this.open.delete(end);
          const feed = this.feeds.get(ownerId);
          if (feed && subscriber) {
            feed.subscribers.delete(subscriber);
            if (feed.subscribers.size === 0) {
              feed.stop();
              this.feeds.delete(ownerId);
            }
          }
          try {
            controller.close();
          } catch {
            // Already closed or cancelled by the client.
          }
        };
        subscriber = {
          cursor: start,
          send(rows) {
            for (const row of rows) write(claimEvent(row));
            this.cursor = rows[rows.length - 1]!.changeSeq;
          },
          recheck() {
            if (checking || ended) return;
            checking = true;
            stillAuthenticated(ctx, principal)
              .then((valid) => {
                if (!valid) end();
              })
              .catch(() => {
                // A failed check (database busy) is retried on the next poll.
              })
              .finally(() => {
                checking = false;
              });
          },
        };
        if (this.closed) {
          end();
          return;
        }
        this.open.add(end);
        signal.addEventListener("abort", end, { once: true });
        let feed = this.feeds.get(ownerId);
        if (!feed) {
          feed = new NamespaceFeed(ctx, ownerId);
          this.feeds.set(ownerId, feed);
        }
        feed.subscribers.add(subscriber);
        // Opens the stream for the client at once (headers and a first byte), and sets the
        // reconnection delay browsers' EventSource uses.
        write("retry: 1000\n: connected\n\n");
        heartbeat = setInterval(() => write(": heartbeat\n\n"), ctx.config.eventHeartbeat);
        heartbeat.unref?.();
        feed.wake();
      },
      cancel: () => end(),
    });
  }
}

/** The OpenAPI description of the stream (its body is no JSON the response schemas describe). */
export const EVENT_STREAM_RESPONSE = {
  description: [
    "A `text/event-stream` (server-sent events) that stays open. Per claim change in the",
    "namespace: `id: <change number>`, `event: claim`, `data: <Claim JSON as GET /v1/claims/{id}",
    "returns it, without history>`. A `: heartbeat` comment every SIGILUM_EVENT_HEARTBEAT (15 s).",
    "Reconnect with `Last-Event-ID` (or `?last_event_id=`) to receive every change after that",
    "number first; without it the stream starts at the present. Several changes of one claim",
    "between two reads arrive as one event with its latest state. The stream ends when the",
    "session or token is revoked, and when the server stops.",
  ].join(" "),
  content: {
    "text/event-stream": {
      schema: {
        type: "string" as const,
        example: 'id: 42\nevent: claim\ndata: {"claim_id":"claim_…","status":"pending",…}\n\n',
      },
    },
  },
};
