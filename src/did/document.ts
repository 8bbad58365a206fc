import { and, eq, isNotNull, max } from "drizzle-orm";
import { findOwnerByNamespace } from "../auth/index.ts";
import type { AppContext } from "../context.ts";
import { claims } from "../db/schema.ts";
import { ApiError, notFound } from "../http/errors.ts";
import {
  DID_PREFIX,
  isValidNamespace,
  keyFingerprint,
  parseAgentKey,
  toMultibaseKey,
} from "../signing/index.ts";

/** `did:sigilum:<namespace>` → the namespace, or 400 INVALID_DID. */
export function namespaceOfDid(raw: string): string {
  let did: string;
  try {
    did = decodeURIComponent(raw);
  } catch {
    did = raw;
  }
  const namespace = did.startsWith(DID_PREFIX) ? did.slice(DID_PREFIX.length) : "";
  if (!isValidNamespace(namespace)) {
    throw new ApiError(
      400,
      "INVALID_DID",
      "Expected did:sigilum:<namespace> (3–64 of a–z, 0–9, '-')",
    );
  }
  return namespace;
}

function verificationMethod(did: string, publicKey: string) {
  const raw = parseAgentKey(publicKey);
  if (!raw) return null;
  return {
    id: `${did}#ed25519-${keyFingerprint(raw)}`,
    type: "Ed25519VerificationKey2020",
    controller: did,
    publicKeyMultibase: toMultibaseKey(raw),
  };
}

/**
 * The DID document of a namespace: one verification method per currently approved agent key and
 * one service entry per service with an approved claim. Orphaned claims (deleted service) count
 * for neither.
 */
export async function didDocument(ctx: AppContext, namespace: string, origin: string) {
  const owner = await findOwnerByNamespace(ctx, namespace);
  if (!owner) throw notFound("DID");
  const approved = await ctx.database.db
    .select({ publicKey: claims.publicKey, slug: claims.serviceSlug })
    .from(claims)
    .where(
      and(eq(claims.ownerId, owner.id), eq(claims.status, "approved"), isNotNull(claims.serviceId)),
    )
    .orderBy(claims.approvedAt, claims.id);
  const did = `${DID_PREFIX}${namespace}`;
  const methods = new Map<string, NonNullable<ReturnType<typeof verificationMethod>>>();
  for (const row of approved) {
    const method = verificationMethod(did, row.publicKey);
    if (method) methods.set(method.id, method);
  }
  const slugs = [...new Set(approved.map((r) => r.slug))];
  const ids = [...methods.keys()];
  const document = {
    "@context": [
      "https://www.w3.org/ns/did/v1",
      "https://w3id.org/security/suites/ed25519-2020/v1",
    ],
    id: did,
    controller: did,
    verificationMethod: [...methods.values()],
    authentication: ids,
    assertionMethod: ids,
    service: slugs.map((slug) => ({
      id: `${did}#service-${slug}`,
      type: "SigilumAuthorizedService",
      serviceEndpoint: `${origin}/v1/verify?namespace=${namespace}&service=${slug}`,
    })),
  };
  const [latest] = await ctx.database.db
    .select({ at: max(claims.updatedAt) })
    .from(claims)
    .where(eq(claims.ownerId, owner.id));
  return {
    document,
    created: owner.createdAt,
    updated: Math.max(owner.updatedAt, latest?.at ?? 0),
  };
}
