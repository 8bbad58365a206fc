import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { parseAgentKey, toMultibaseKey } from "../../src/signing/index.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { Claim, ClaimSubmitted } from "../helpers/types.ts";

function methodId(ns: string, publicKey: string): string {
  const raw = parseAgentKey(publicKey)!;
  return `did:sigilum:${ns}#ed25519-${createHash("sha256").update(raw).digest("hex").slice(0, 16)}`;
}

describe("DID documents", () => {
  let t: TestServer;
  let s: ServiceSetup;
  const approvedKeys: string[] = [];
  let pendingKey = "";
  beforeAll(async () => {
    t = await startTestServer();
    s = await ownerWithKey(t);
    for (let i = 0; i < 2; i++) {
      const agent = await newAgent(s.namespace);
      const { body } = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
      await s.client.post<Claim>(`/v1/claims/${body.claim_id}/approve`);
      approvedKeys.push(agent.publicKey);
    }
    const pending = await newAgent(s.namespace);
    await submitClaim<ClaimSubmitted>(t, pending, s.apiKey, s.slug);
    pendingKey = pending.publicKey;
  });
  afterAll(() => t.close());

  test("/.well-known/did/{did}: one verification method per approved key, one service per approved service", async () => {
    const did = `did:sigilum:${s.namespace}`;
    const res = await fetch(`${t.url}/.well-known/did/${did}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/did+json");
    expect(res.headers.get("cache-control")).toBe("public, max-age=60");
    const doc = await res.json();
    expect(doc["@context"]).toEqual([
      "https://www.w3.org/ns/did/v1",
      "https://w3id.org/security/suites/ed25519-2020/v1",
    ]);
    expect(doc.id).toBe(did);
    expect(doc.controller).toBe(did);
    const expectedIds = approvedKeys.map((k) => methodId(s.namespace, k));
    expect(doc.verificationMethod.map((m: { id: string }) => m.id).sort()).toEqual(
      [...expectedIds].sort(),
    );
    for (const m of doc.verificationMethod) {
      expect(m.type).toBe("Ed25519VerificationKey2020");
      expect(m.controller).toBe(did);
      expect(m.publicKeyMultibase).toMatch(/^z6Mk/);
    }
    const multibase = approvedKeys.map((k) => toMultibaseKey(parseAgentKey(k)!));
    expect(
      doc.verificationMethod
        .map((m: { publicKeyMultibase: string }) => m.publicKeyMultibase)
        .sort(),
    ).toEqual(multibase.sort());
    expect(JSON.stringify(doc)).not.toContain(toMultibaseKey(parseAgentKey(pendingKey)!));
    expect(doc.authentication.sort()).toEqual([...expectedIds].sort());
    expect(doc.assertionMethod.sort()).toEqual([...expectedIds].sort());
    expect(doc.service).toHaveLength(1);
    expect(doc.service[0].id).toBe(`${did}#service-${s.slug}`);
    const encoded = await fetch(`${t.url}/.well-known/did/${encodeURIComponent(did)}`);
    expect((await encoded.json()).id).toBe(did);
  });

  test("/1.0/identifiers/{did}: the W3C resolution envelope", async () => {
    const res = await fetch(`${t.url}/1.0/identifiers/did:sigilum:${s.namespace}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(
      'application/ld+json;profile="https://w3id.org/did-resolution"',
    );
    const body = await res.json();
    expect(body.didDocument.id).toBe(`did:sigilum:${s.namespace}`);
    expect(body.didResolutionMetadata.contentType).toBe("application/did+json");
    expect(body.didDocumentMetadata.deactivated).toBe(false);
    expect(Date.parse(body.didDocumentMetadata.updated)).toBeGreaterThanOrEqual(
      Date.parse(body.didDocumentMetadata.created),
    );
  });

  test("revoking a claim removes its key from the document", async () => {
    const agent = await newAgent(s.namespace);
    const { body } = await submitClaim<ClaimSubmitted>(t, agent, s.apiKey, s.slug);
    await s.client.post<Claim>(`/v1/claims/${body.claim_id}/approve`);
    const before = await (
      await fetch(`${t.url}/.well-known/did/did:sigilum:${s.namespace}`)
    ).json();
    expect(before.authentication).toContain(methodId(s.namespace, agent.publicKey));
    await s.client.post<Claim>(`/v1/claims/${body.claim_id}/revoke`);
    const after = await (await fetch(`${t.url}/.well-known/did/did:sigilum:${s.namespace}`)).json();
    expect(after.authentication).not.toContain(methodId(s.namespace, agent.publicKey));
  });

  test("400 INVALID_DID for malformed DIDs, 404 NOT_FOUND for unknown namespaces", async () => {
    for (const bad of [
      "did:web:example.com",
      "did:sigilum:A",
      "did:sigilum:-x-",
      "not-a-did",
      "did:sigilum:",
    ]) {
      const res = await fetch(`${t.url}/.well-known/did/${encodeURIComponent(bad)}`);
      expect(res.status).toBe(400);
      expect((await res.json()).code).toBe("INVALID_DID");
    }
    const missing = await fetch(`${t.url}/.well-known/did/did:sigilum:nobody-here-xyz`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).code).toBe("NOT_FOUND");
    const missing2 = await fetch(`${t.url}/1.0/identifiers/did:sigilum:nobody-here-xyz`);
    expect(missing2.status).toBe(404);
  });
});
