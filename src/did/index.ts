import { Elysia, t } from "elysia";
import { toIso } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { publicOrigin } from "../http/context.ts";
import { didDocument, namespaceOfDid } from "./document.ts";

const DidParams = t.Object({ did: t.String({ maxLength: 200 }) }, { additionalProperties: false });
const CACHE = "public, max-age=60";

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
          headers: { "content-type": "application/did+json", "cache-control": CACHE },
        });
      },
      { params: DidParams, detail: { summary: "The DID document of did:sigilum:<namespace>" } },
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
          headers: {
            "content-type": 'application/ld+json;profile="https://w3id.org/did-resolution"',
            "cache-control": CACHE,
          },
        });
      },
      { params: DidParams, detail: { summary: "W3C DID resolution of did:sigilum:<namespace>" } },
    );
}
