import { eq, inArray } from "drizzle-orm";
import type { Erasure } from "../db/erasure.ts";
import { usageEvents } from "../db/schema.ts";

/** Events a deleted service reported stay where they were reported, orphaned (keeping the slug). */
export const usageErasure: Erasure = {
  serviceRows: (db, serviceIds) => [
    db
      .update(usageEvents)
      .set({ serviceId: null })
      .where(inArray(usageEvents.serviceId, serviceIds)),
  ],
  ownerRows: (db, ownerId) => [db.delete(usageEvents).where(eq(usageEvents.ownerId, ownerId))],
};
