import { and, eq, gt, min } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { writeBatch } from "../db/client.ts";
import { deliveries } from "../db/schema.ts";
import { randomBase62 } from "../ids.ts";
import { attemptDelivery } from "./attempt.ts";
import {
  dueWebhooks,
  type LeasedRow,
  leaseStatement,
  RoundWebhook,
  type SendingWebhook,
} from "./lease.ts";

// A round costs two statements however many it leases: refill when half the capacity is free.
const REFILL_AT = 0.5;

/**
 * Sends due deliveries: claim (lease) → attempt → record → schedule next (see attempt.ts).
 * Woken right after a commit that adds deliveries, and by a timer at the earliest retry due
 * before the next sweep, so retries leave on time; a sweep (SIGILUM_WEBHOOK_SWEEP_INTERVAL, 5 s)
 * picks up anything else due or left behind by a crashed process (expired leases are taken over).
 */
export class DeliveryWorker {
  readonly owner = `wrk_${randomBase62(16)}`;
  private inFlight = new Map<string, { webhookId: string; done: Promise<void> }>();
  /** In-flight attempts per webhook (the per-webhook share is checked against it each round). */
  private perWebhook = new Map<string, number>();
  private sweep: ReturnType<typeof setInterval> | null = null;
  private pumping: Promise<void> | null = null;
  private wakeAgain = false;
  private stopped = false;
  private rounds = 0;
  private timer: { handle: ReturnType<typeof setTimeout>; at: number } | null = null;

  /** `context` is called, not stored, so the worker can be a field of the context it reads. */
  constructor(
    private context: () => AppContext,
    private random: () => number = Math.random,
  ) {}

  private get ctx(): AppContext {
    return this.context();
  }

  start(): void {
    // wake() never overlaps rounds, so a sweep that finds a round running only asks for another.
    this.sweep = setInterval(() => this.wake(), this.ctx.config.webhookSweepInterval);
    this.wake();
  }

  /**
   * Ask for a round; cheap to call often (rounds never overlap). The round starts after the
   * current batch of I/O callbacks, so attempts finishing together share one round.
   */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.wakeAgain = true;
      return;
    }
    this.pumping = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.pump())
      .finally(() => {
        this.pumping = null;
      });
  }

  private async pump(): Promise<void> {
    let idle = false;
    do {
      this.wakeAgain = false;
      if (this.stopped) break;
      try {
        // One round takes every due webhook's share at once, so it needs no second round;
        // completions and new events wake the next one.
        const leased = await this.round();
        idle = leased === null || (leased === 0 && this.inFlight.size === 0);
      } catch (err) {
        this.ctx.logger.warn("delivery claim failed", { error: (err as Error).message });
      }
    } while (this.wakeAgain && !this.stopped);
    // While attempts are in flight their completions wake rounds (and retries set their own
    // timers), so the schedule is looked up only when the worker runs out of due work.
    if (idle) await this.wakeAtNextDue();
    // A wake that arrived during the lookup must not be lost.
    if (this.wakeAgain && !this.stopped) return this.pump();
  }

  /** Sets the wake-up timer for the earliest future retry, if it is due before the next sweep. */
  private async wakeAtNextDue(): Promise<void> {
    const now = this.ctx.clock.now();
    try {
      const [next] = await this.ctx.database.db
        .select({ at: min(deliveries.nextAttemptAt) })
        .from(deliveries)
        .where(and(eq(deliveries.status, "pending"), gt(deliveries.nextAttemptAt, now)));
      if (next?.at != null) this.wakeIn(next.at - now);
    } catch (err) {
      this.ctx.logger.warn("delivery schedule lookup failed", { error: (err as Error).message });
    }
  }

  /** One timer, for the earliest wake-up asked for; later ones are left to the sweep's round. */
  private wakeIn(delayMs: number): void {
    if (this.stopped || delayMs > this.ctx.config.webhookSweepInterval) return;
    const at = performance.now() + delayMs;
    if (this.timer && this.timer.at <= at) return;
    if (this.timer) clearTimeout(this.timer.handle);
    const handle = setTimeout(() => {
      this.timer = null;
      this.wake();
    }, delayMs);
    handle.unref?.();
    this.timer = { handle, at };
  }

  /**
   * This round's share per webhook: up to SIGILUM_WEBHOOK_PER_WEBHOOK_CONCURRENCY in flight each,
   * within the process's free capacity, starting at a different webhook each round. One webhook's
   * backlog therefore neither hides the others' work nor makes a round scan it.
   */
  private plan(due: { webhook: SendingWebhook; due: number }[], share: number): [string, number][] {
    let capacity = this.ctx.config.webhookConcurrency - this.inFlight.size;
    const start = due.length > 0 ? this.rounds++ % due.length : 0;
    const plan: [string, number][] = [];
    for (let i = 0; i < due.length && capacity > 0; i++) {
      const { webhook, due: n } = due[(start + i) % due.length]!;
      const room = Math.min(share - (this.perWebhook.get(webhook.id) ?? 0), n, capacity);
      if (room <= 0) continue;
      plan.push([webhook.id, room]);
      capacity -= room;
    }
    return plan;
  }

  /**
   * One round: which webhooks have due work, then ONE guarded UPDATE … RETURNING that leases each
   * one's share (oldest first) and returns what the attempts need, payloads included. Rows
   * another process leased meanwhile drop out of the UPDATE. Returns how many were leased, or
   * null when nothing at all was due.
   */
  private async round(): Promise<number | null> {
    if (this.inFlight.size >= this.ctx.config.webhookConcurrency) return 0;
    const now = this.ctx.clock.now();
    const share = this.ctx.config.webhookPerWebhookConcurrency;
    const due = await dueWebhooks(this.ctx, now, share);
    if (due.length === 0) return null;
    const plan = this.plan(due, share);
    if (plan.length === 0) return 0;
    const expires = now + this.ctx.config.webhookTimeoutMs + this.ctx.config.webhookLeaseMargin;
    // The lease outlives the attempt's own timeout, so only a crashed worker's lease expires.
    const [result] = await writeBatch(this.ctx.database, [
      leaseStatement(plan, this.owner, expires, now),
    ]);
    const byId = new Map(due.map((d) => [d.webhook.id, new RoundWebhook(this.ctx, d.webhook)]));
    const rows = (result?.rows ?? []) as unknown as LeasedRow[];
    for (const row of rows) this.launch(row, byId.get(row.webhook_id)!);
    return rows.length;
  }

  private launch(row: LeasedRow, webhook: RoundWebhook): void {
    const job = {
      delivery: {
        id: row.id,
        eventId: row.event_id,
        eventType: row.event_type,
        attemptCount: Number(row.attempt_count),
      },
      webhook: webhook.row,
      payload: row.payload,
    };
    const webhookId = webhook.row.id;
    const done = attemptDelivery(this.ctx, job, webhook.secrets, this.owner, this.random)
      .then((outcome) => {
        if (outcome?.kind === "retry") this.wakeIn(outcome.delayMs);
      })
      .catch((err) =>
        this.ctx.logger.error("delivery attempt failed", {
          delivery_id: row.id,
          error: (err as Error).message,
        }),
      )
      .finally(() => {
        this.inFlight.delete(row.id);
        const left = (this.perWebhook.get(webhookId) ?? 1) - 1;
        if (left > 0) this.perWebhook.set(webhookId, left);
        else this.perWebhook.delete(webhookId);
        // Refill in batches (a round per completion would cost two statements per delivery):
        // when a quarter of the process's capacity or half of this webhook's share is free.
        const { webhookConcurrency, webhookPerWebhookConcurrency } = this.ctx.config;
        if (
          this.inFlight.size <= webhookConcurrency * REFILL_AT ||
          left <= webhookPerWebhookConcurrency / 2
        )
          this.wake();
      });
    this.inFlight.set(row.id, { webhookId, done });
    this.perWebhook.set(webhookId, (this.perWebhook.get(webhookId) ?? 0) + 1);
  }

  /** Runs rounds until nothing is due and nothing is in flight (tests and shutdown use it). */
  async drain(): Promise<void> {
    for (let round = 0; round < 1000; round++) {
      this.wake();
      await this.pumping;
      if (this.inFlight.size === 0) {
        const share = this.ctx.config.webhookPerWebhookConcurrency;
        const due = await dueWebhooks(this.ctx, this.ctx.clock.now(), share);
        if (due.length === 0) return;
        continue;
      }
      await Promise.all([...this.inFlight.values()].map((j) => j.done));
    }
  }

  /** Graceful stop: claim nothing new, let in-flight attempts finish (each bounded by its timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweep) clearInterval(this.sweep);
    if (this.timer) clearTimeout(this.timer.handle);
    await this.pumping;
    await Promise.all([...this.inFlight.values()].map((j) => j.done));
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }
}
