import { and, asc, eq, gt, inArray, isNull, lte, min, or, sql } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { deliveries } from "../db/schema.ts";
import { randomBase62 } from "../ids.ts";
import { attemptDelivery } from "./attempt.ts";

const REFILL_AT = 0.75;

/**
 * Sends due deliveries: claim (lease) → attempt → record → schedule next (see attempt.ts).
 * Woken right after a commit that adds deliveries, and by a timer at the earliest retry due
 * before the next sweep, so retries leave on time; a sweep (SIGILUM_WEBHOOK_SWEEP_INTERVAL, 5 s)
 * picks up anything else due or left behind by a crashed process (expired leases are taken over).
 */
export class DeliveryWorker {
  readonly owner = `wrk_${randomBase62(16)}`;
  private inFlight = new Map<string, { webhookId: string; done: Promise<void> }>();
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

  /** Ask for a claim round now; cheap to call often (rounds never overlap). */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.wakeAgain = true;
      return;
    }
    this.pumping = this.pump().finally(() => {
      this.pumping = null;
    });
  }

  private async pump(): Promise<void> {
    do {
      this.wakeAgain = false;
      try {
        // Keep claiming while rounds find work and capacity is left (a round skips webhooks
        // that filled their share, so the next one reaches the others' deliveries).
        while (
          (await this.claimAndStart()) > 0 &&
          this.inFlight.size < this.ctx.config.webhookConcurrency
        ) {}
      } catch (err) {
        this.ctx.logger.warn("delivery claim failed", { error: (err as Error).message });
      }
    } while (this.wakeAgain && !this.stopped);
    await this.wakeAtNextDue();
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

  private perWebhook(webhookId: string): number {
    let n = 0;
    for (const job of this.inFlight.values()) if (job.webhookId === webhookId) n++;
    return n;
  }

  /** Due candidates within this process's concurrency caps (overall and per webhook). */
  /** Webhooks with at least one due, unleased delivery (one index probe per webhook). */
  private async webhooksWithDueWork(now: number): Promise<string[]> {
    const rows = await this.ctx.database.db.all<{ id: string }>(sql`
      SELECT w.id FROM webhooks w WHERE EXISTS (
        SELECT 1 FROM deliveries d
        WHERE d.webhook_id = w.id AND d.status = 'pending' AND d.next_attempt_at <= ${now}
          AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ${now}))`);
    return rows.map((r) => r.id);
  }

  /** Up to `room` due, unleased deliveries of one webhook, oldest first. */
  private dueOf(webhookId: string, now: number, room: number) {
    return this.ctx.database.db
      .select({ id: deliveries.id, webhookId: deliveries.webhookId })
      .from(deliveries)
      .where(
        and(
          eq(deliveries.webhookId, webhookId),
          eq(deliveries.status, "pending"),
          lte(deliveries.nextAttemptAt, now),
          or(isNull(deliveries.leaseExpiresAt), lte(deliveries.leaseExpiresAt, now)),
        ),
      )
      .orderBy(asc(deliveries.nextAttemptAt))
      .limit(room);
  }

  /**
   * Due candidates within this process's caps, taken webhook by webhook (each up to its share),
   * starting at a different webhook each round. One webhook's backlog therefore neither hides
   * the others' work nor makes a round scan it.
   */
  private async candidates(now: number) {
    let capacity = this.ctx.config.webhookConcurrency - this.inFlight.size;
    if (capacity <= 0) return [];
    const webhooks = await this.webhooksWithDueWork(now);
    const start = webhooks.length > 0 ? this.rounds++ % webhooks.length : 0;
    const picked: { id: string; webhookId: string }[] = [];
    for (let i = 0; i < webhooks.length && capacity > 0; i++) {
      const webhookId = webhooks[(start + i) % webhooks.length]!;
      const room = Math.min(
        this.ctx.config.webhookPerWebhookConcurrency - this.perWebhook(webhookId),
        capacity,
      );
      if (room <= 0) continue;
      const due = await this.dueOf(webhookId, now, room);
      picked.push(...due);
      capacity -= due.length;
    }
    return picked;
  }

  /** Leases the picked rows in one guarded UPDATE; rows another process took meanwhile drop out. */
  private async claimAndStart(): Promise<number> {
    const now = this.ctx.clock.now();
    const picked = await this.candidates(now);
    if (picked.length === 0) return 0;
    const leased = await this.ctx.database.db
      .update(deliveries)
      .set({
        leaseOwner: this.owner,
        // The lease outlives the attempt's own timeout, so only a crashed worker's lease expires.
        leaseExpiresAt: now + this.ctx.config.webhookTimeoutMs + this.ctx.config.webhookLeaseMargin,
      })
      .where(
        and(
          inArray(
            deliveries.id,
            picked.map((p) => p.id),
          ),
          eq(deliveries.status, "pending"),
          or(isNull(deliveries.leaseExpiresAt), lte(deliveries.leaseExpiresAt, now)),
        ),
      )
      .returning({ id: deliveries.id, webhookId: deliveries.webhookId });
    for (const row of leased) this.launch(row.id, row.webhookId);
    return leased.length;
  }

  private launch(deliveryId: string, webhookId: string): void {
    const done = attemptDelivery(this.ctx, deliveryId, this.owner, this.random)
      .then((outcome) => {
        if (outcome?.kind === "retry") this.wakeIn(outcome.delayMs);
      })
      .catch((err) =>
        this.ctx.logger.error("delivery attempt failed", {
          delivery_id: deliveryId,
          error: (err as Error).message,
        }),
      )
      .finally(() => {
        this.inFlight.delete(deliveryId);
        // Refill in batches (a claim round per completion would cost two queries per delivery).
        if (this.inFlight.size <= this.ctx.config.webhookConcurrency * REFILL_AT) this.wake();
      });
    this.inFlight.set(deliveryId, { webhookId, done });
  }

  /** Runs rounds until nothing is due and nothing is in flight (tests and shutdown use it). */
  async drain(): Promise<void> {
    for (let round = 0; round < 1000; round++) {
      this.wake();
      await this.pumping;
      if (this.inFlight.size === 0) {
        const due = await this.candidates(this.ctx.clock.now());
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
