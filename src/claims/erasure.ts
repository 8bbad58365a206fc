import { eq, inArray } from "drizzle-orm";
import type { Erasure } from "../db/erasure.ts";
import {
  claimNonces,
  claims,
  claimTransitions,
  namespacePolicies,
  namespacePolicyServices,
} from "../db/schema.ts";
import { feedTombstoneStatements } from "./lifecycle.ts";

/**
 * Claims naming a deleted service stay in their namespaces' history, orphaned (they never verify
 * again); a deleted account's claims go, leaving feed tombstones for the services that had them.
 */
export const claimsErasure: Erasure = {
  serviceRows: (db, serviceIds) => [
    db.delete(claimNonces).where(inArray(claimNonces.serviceId, serviceIds)),
    db.update(claims).set({ serviceId: null }).where(inArray(claims.serviceId, serviceIds)),
    // Trust (or a block) never passes to whoever registers the slug next.
    db
      .delete(namespacePolicyServices)
      .where(inArray(namespacePolicyServices.serviceId, serviceIds)),
  ],
  ownerRows: (db, ownerId, now) => [
    // Before the claims go: the tombstones are made from them (orphaned ones get none).
    ...feedTombstoneStatements(db, ownerId, now),
    db
      .delete(claimTransitions)
      .where(
        inArray(
          claimTransitions.claimId,
          db.select({ id: claims.id }).from(claims).where(eq(claims.ownerId, ownerId)),
        ),
      ),
    db.delete(claims).where(eq(claims.ownerId, ownerId)),
    db.delete(namespacePolicyServices).where(eq(namespacePolicyServices.ownerId, ownerId)),
    db.delete(namespacePolicies).where(eq(namespacePolicies.ownerId, ownerId)),
  ],
};
