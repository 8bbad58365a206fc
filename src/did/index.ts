import { Elysia, t } from "elysia";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { publicOrigin } from "../http/context.ts";
import { didDocument, namespaceOfDid } from "./document.ts";

const DidParams = t.Object({ did: t.String({ maxLength: 200 }) }, { additionalProperties: false });
const CACHE = "public, max-age=60";

/** A JSON document of another media type, which the route builds itself (so Elysia checks none). */
function document(mediaType: string, description: string) {
  return {
    200: { description, content: { [mediaType]: { schema: { type: "object" as const } } } },
  };
}

/**
 * Headers for a publicly cached document. Its service endpoints name the origin the client used,
 * which without SIGILUM_PUBLIC_URL comes from Host (and the forwarded headers behind a trusted
 * proxy); a shared cache must key on those, or one client's Host would be served to the next.
 */
function cacheHeaders(ctx: AppContext, contentType: string): Record<string, string> {
  const headers: Record<string, string> = { "content-type": contentType, "cache-control": CACHE };
  if (ctx.config.publicUrl) return headers;
  headers.vary = ctx.config.trustProxy ? "Host, X-Forwarded-Host, X-Forwarded-Proto" : "Host";
  return headers;
}

/** Public DID documents (http-api.md §6): the plain document and the W3C resolution envelope. */
export function didFeature(ctx: AppContext) {
  return new Elysia({ name: "did", tags: ["did"] })
    .get(
      "/.well-known/did/:did",
      async ({ params, request }) => {
        const { document } = await didDocument(
          ctx,
          namespaceOfDid(params.did),
          publicOrigin(request, ctx.config),
        );
        return new Response(JSON.stringify(document), {
          headers: cacheHeaders(ctx, "application/did+json"),
        });
      },
      {
        params: DidParams,
        detail: {
          operationId: "getDidDocument",
          summary: "The DID document of did:sigilum:<namespace>",
          responses: document("application/did+json", "W3C DID document"),
        },
      },
    )
    .get(
      "/1.0/identifiers/:did",
      async ({ params, request }) => {
        const namespace = namespaceOfDid(params.did);
        const { document, created, updated } = await didDocument(
          ctx,
          namespace,
          publicOrigin(request, ctx.config),
        );
        const envelope = {
          "@context": "https://w3id.org/did-resolution/v1",
          didDocument: document,
          didResolutionMetadata: { contentType: "application/did+json" },
          didDocumentMetadata: {
            created: toIso(created),
            updated: toIso(updated),
            deactivated: false,
          },
        };
        return new Response(JSON.stringify(envelope), {
          headers: cacheHeaders(
            ctx,
            'application/ld+json;profile="https://w3id.org/did-resolution"',
          ),
        });
      },
      {
        params: DidParams,
        detail: {
          operationId: "resolveDid",
          summary: "W3C DID resolution of did:sigilum:<namespace>",
          responses: document(
            'application/ld+json;profile="https://w3id.org/did-resolution"',
            "DID resolution result: didDocument, didResolutionMetadata, didDocumentMetadata",
          ),
        },
      },
    );
}
