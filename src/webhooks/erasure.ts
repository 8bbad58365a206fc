import { inArray } from "drizzle-orm";
import type { Erasure } from "../db/erasure.ts";
import { deliveries, deliveryAttempts, events, webhooks } from "../db/schema.ts";

/** A deleted service's webhooks go with their deliveries; the outbox keeps its events, orphaned. */
export const webhooksErasure: Erasure = {
  serviceRows: (db, serviceIds) => {
    const hooks = db
      .select({ id: webhooks.id })
      .from(webhooks)
      .where(inArray(webhooks.serviceId, serviceIds));
    const hookDeliveries = db
      .select({ id: deliveries.id })
      .from(deliveries)
      .where(inArray(deliveries.webhookId, hooks));
    return [
      db.delete(deliveryAttempts).where(inArray(deliveryAttempts.deliveryId, hookDeliveries)),
      db.delete(deliveries).where(inArray(deliveries.webhookId, hooks)),
      db.delete(webhooks).where(inArray(webhooks.serviceId, serviceIds)),
      db.update(events).set({ serviceId: null }).where(inArray(events.serviceId, serviceIds)),
    ];
  },
};
