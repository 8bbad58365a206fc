import { Cron } from "croner";
import { and, asc, eq, inArray, isNull, lte, notInArray, or } from "drizzle-orm";
import type { AppContext } from "../context.ts";
import { deliveries } from "../db/schema.ts";
import { randomBase62 } from "../ids.ts";
import { attemptDelivery } from "./attempt.ts";

// A lease outlives the attempt's own timeout, so only a crashed worker's lease ever expires.
const LEASE_MARGIN_MS = 5_000;
const SWEEP_CRON = "*/5 * * * * *";
const REFILL_AT = 0.75;

/**
 * Sends due deliveries: claim (lease) → attempt → record → schedule next (see attempt.ts).
 * Woken right after a commit that adds deliveries; a croner sweep every 5 s picks up anything
 * due or left behind by a crashed process (expired leases are taken over).
 */
export class DeliveryWorker {
  readonly owner = `wrk_${randomBase62(16)}`;
  private inFlight = new Map<string, { webhookId: string; done: Promise<void> }>();
  private cron: Cron | null = null;
  private pumping: Promise<void> | null = null;
  private wakeAgain = false;
  private stopped = false;

  constructor(
    private ctx: AppContext,
    private random: () => number = Math.random,
  ) {}

  start(): void {
    this.cron = new Cron(SWEEP_CRON, { protect: true }, () => this.wake());
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
  }

  private perWebhook(webhookId: string): number {
    let n = 0;
    for (const job of this.inFlight.values()) if (job.webhookId === webhookId) n++;
    return n;
  }

  /** Due candidates within this process's concurrency caps (overall and per webhook). */
  /** Webhooks that already have their per-webhook share of attempts in flight here. */
  private saturatedWebhooks(): string[] {
    const counts = new Map<string, number>();
    for (const job of this.inFlight.values())
      counts.set(job.webhookId, (counts.get(job.webhookId) ?? 0) + 1);
    return [...counts]
      .filter(([, n]) => n >= this.ctx.config.webhookPerWebhookConcurrency)
      .map(([id]) => id);
  }

  /**
   * Due candidates within this process's concurrency caps, oldest first. Webhooks already at
   * their cap are left out of the query, so one webhook's backlog cannot hide the others' work.
   */
  private async candidates(now: number) {
    const capacity = this.ctx.config.webhookConcurrency - this.inFlight.size;
    if (capacity <= 0) return [];
    const saturated = this.saturatedWebhooks();
    const due = await this.ctx.database.db
      .select({ id: deliveries.id, webhookId: deliveries.webhookId })
      .from(deliveries)
      .where(
        and(
          eq(deliveries.status, "pending"),
          lte(deliveries.nextAttemptAt, now),
          or(isNull(deliveries.leaseExpiresAt), lte(deliveries.leaseExpiresAt, now)),
          saturated.length > 0 ? notInArray(deliveries.webhookId, saturated) : undefined,
        ),
      )
      .orderBy(asc(deliveries.nextAttemptAt))
      .limit(capacity * 4);
    const picked: typeof due = [];
    const counts = new Map<string, number>();
    for (const row of due) {
      const n = counts.get(row.webhookId) ?? this.perWebhook(row.webhookId);
      if (n >= this.ctx.config.webhookPerWebhookConcurrency || picked.length >= capacity) continue;
      counts.set(row.webhookId, n + 1);
      picked.push(row);
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
        leaseExpiresAt: now + this.ctx.config.webhookTimeoutMs + LEASE_MARGIN_MS,
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
      .then(() => undefined)
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
    this.cron?.stop();
    await this.pumping;
    await Promise.all([...this.inFlight.values()].map((j) => j.done));
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }
}
