import { describe, expect, test } from "bun:test";
import { ID_FORMATS, InvalidIdError, isId, newId, pathWithIds } from "../src/ids.ts";

// Bun (like Node, Deno and workerd) resolves `.` and `..` before the app sees the path, so
// `DELETE /v1/services/$S/keys/..` would delete the service: clients check ids before building paths.
const HOSTILE = ["..", ".", "%2e%2e", "%2E.", "a/b", "", "key_x/../..", " key_"];

describe("id formats", () => {
  test("every generated id matches its format", () => {
    expect(isId("service", newId.service())).toBe(true);
    expect(isId("apiKey", newId.apiKey())).toBe(true);
    expect(isId("webhook", newId.webhook())).toBe(true);
    expect(isId("claim", newId.claim())).toBe(true);
    expect(isId("event", newId.event())).toBe(true);
    expect(isId("delivery", newId.delivery())).toBe(true);
    expect(isId("token", newId.token())).toBe(true);
    expect(isId("session", newId.session())).toBe(true);
    expect(isId("passkey", newId.passkey())).toBe(true);
    expect(isId("namespace", "acme-co")).toBe(true);
  });

  test("claim, event and delivery ids sort by creation (README: time-ordered ids), and still differ within a millisecond", async () => {
    for (const make of [newId.claim, newId.event, newId.delivery]) {
      const first = make();
      const sameMs = make();
      await Bun.sleep(2);
      const later = make();
      expect(later > first).toBe(true);
      expect(later > sameMs).toBe(true);
      expect(sameMs).not.toBe(first);
    }
  });

  test("near misses are refused", () => {
    expect(isId("apiKey", `key_${"a".repeat(19)}`)).toBe(false);
    expect(isId("apiKey", `key_${"a".repeat(21)}`)).toBe(false);
    expect(isId("webhook", `wh_${"-".repeat(20)}`)).toBe(false);
    expect(isId("claim", newId.apiKey())).toBe(false);
    expect(isId("service", crypto.randomUUID().toUpperCase())).toBe(false);
    expect(isId("service", "00000000-0000-1000-8000-000000000000")).toBe(false); // v1, not v4
    expect(isId("namespace", "Acme")).toBe(false);
    expect(isId("namespace", "-acme")).toBe(false);
    for (const kind of Object.keys(ID_FORMATS) as (keyof typeof ID_FORMATS)[])
      for (const bad of HOSTILE) expect(isId(kind, bad)).toBe(false);
  });

  test("pathWithIds builds a path from checked ids", () => {
    const service = newId.service();
    const key = newId.apiKey();
    expect(pathWithIds("/v1/services/{service}/keys/{apiKey}/roll", { service, apiKey: key })).toBe(
      `/v1/services/${service}/keys/${key}/roll`,
    );
    expect(pathWithIds("/v1/namespaces/{namespace}/claims", { namespace: "acme" })).toBe(
      "/v1/namespaces/acme/claims",
    );
  });

  test("pathWithIds refuses dot segments, encoded dots and slashes as ids", () => {
    const service = newId.service();
    for (const bad of HOSTILE) {
      expect(() =>
        pathWithIds("/v1/services/{service}/keys/{apiKey}", { service, apiKey: bad }),
      ).toThrow(InvalidIdError);
      expect(() => pathWithIds("/v1/services/{service}", { service: bad })).toThrow(
        /not a valid service id/,
      );
    }
  });

  test("pathWithIds refuses a template whose placeholders it cannot fill", () => {
    expect(() => pathWithIds("/v1/services/{service}", {})).toThrow(/no value for \{service\}/);
    expect(() => pathWithIds("/v1/things/{thing}" as string, { thing: "x" } as never)).toThrow(
      /unknown id kind/,
    );
  });
});
