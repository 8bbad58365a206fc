import { eq, inArray } from "drizzle-orm";
import type { Erasure } from "../db/erasure.ts";
import { apiKeys, services } from "../db/schema.ts";

/** A deleted service's keys go with it; an account's services go after everything naming them. */
export const servicesErasure: Erasure = {
  serviceRows: (db, serviceIds) => [
    db.delete(apiKeys).where(inArray(apiKeys.serviceId, serviceIds)),
  ],
  ownerRows: (db, ownerId) => [db.delete(services).where(eq(services.ownerId, ownerId))],
};
