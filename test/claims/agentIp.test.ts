/**
 * `agent_ip` (http-api.md §5): IPv4 dotted quad only, or IPv6, optionally with a port that is
 * dropped. The SSRF guard's parser (every inet_aton form) is deliberately not the rule here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseAgentIp } from "../../src/claims/agentIp.ts";
import { formatIp, parseIp } from "../../src/net/index.ts";
import { newAgent, submitClaim } from "../helpers/agent.ts";
import { expectValidation } from "../helpers/assertions.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { ownerWithKey, type ServiceSetup } from "../helpers/setup.ts";
import type { ApiErrorBody, ClaimSubmitted, ClaimWithHistory } from "../helpers/types.ts";

const ACCEPTED: [string, string][] = [
  ["203.0.113.9", "203.0.113.9"],
  ["0.0.0.0", "0.0.0.0"],
  ["255.255.255.255", "255.255.255.255"],
  ["203.0.113.9:4711", "203.0.113.9"],
  ["203.0.113.9:0", "203.0.113.9"],
  ["203.0.113.9:65535", "203.0.113.9"],
  ["2001:db8::1", "2001:db8::1"],
  ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
  ["[2001:db8::1]", "2001:db8::1"],
  ["[2001:db8::1]:443", "2001:db8::1"],
  ["::1", "::1"],
  ["::ffff:203.0.113.9", "::ffff:203.0.113.9"],
  ["[::ffff:203.0.113.9]:80", "::ffff:203.0.113.9"],
  // Without brackets a trailing ":443" is just another IPv6 group.
  ["2001:db8::1:443", "2001:db8::1:443"],
];

const REJECTED = [
  // inet_aton shorthand and octal/hex-looking forms: fine for the SSRF guard, not here.
  "0x7f.1",
  "0x7f.0.0.1",
  "127.1",
  "1.2.3",
  "2130706433",
  "010.0.0.1",
  "1.2.3.04",
  "0177.0.0.1",
  "1.2.3.4.",
  "256.1.1.1",
  "1.2.3.-4",
  "+1.2.3.4",
  " 1.2.3.4",
  "1.2.3.4:",
  "1.2.3.4:65536",
  "1.2.3.4:+80",
  "1.2.3.4:0x50",
  "1.2.3.4:80:80",
  "[1.2.3.4]",
  "[1.2.3.4]:80",
  "1.2.3.4/32",
  "10.0.0.0/8",
  "[2001:db8::1]:",
  "[2001:db8::1]:99999",
  "[2001:db8::1",
  "2001:db8::1]",
  "fe80::1%eth0",
  "::ffff:0x7f.1",
  "::ffff:127.1",
  "1:2:3:4:5:6:7:8:9",
  "example.com",
  "example.com:80",
  "",
];

describe("parseAgentIp", () => {
  test.each(ACCEPTED)("%p → %p", (input, canonical) => {
    expect(parseAgentIp(input)).toBe(canonical);
  });

  test.each(REJECTED.map((r) => [r]))("%p is refused", (input) => {
    expect(parseAgentIp(input)).toBeNull();
  });

  test("the SSRF guard still reads the encoded forms agent_ip refuses", () => {
    for (const encoded of ["0x7f.1", "127.1", "2130706433", "0177.0.0.1"]) {
      expect(formatIp(parseIp(encoded)!)).toBe("127.0.0.1");
    }
  });

  test("property: any IPv4 address in dotted-quad form, with or without a port, round-trips", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.option(fc.integer({ min: 0, max: 65535 })), (ip, port) => {
        const text = port === null ? ip : `${ip}:${port}`;
        expect(parseAgentIp(text)).toBe(ip);
      }),
    );
  });

  test("property: any IPv6 address, bare or bracketed with a port, gives its canonical form", () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 65535 }), (ip, port) => {
        const canonical = formatIp(parseIp(ip)!);
        expect(parseAgentIp(ip)).toBe(canonical);
        expect(parseAgentIp(`[${ip}]:${port}`)).toBe(canonical);
      }),
    );
  });

  test("property: an IPv4 address with a part written in hex or with a leading zero is refused", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom("hex", "zero"),
        (parts, at, form) => {
          const written = parts.map(String);
          written[at] = form === "hex" ? `0x${parts[at]!.toString(16)}` : `0${parts[at]}`;
          expect(parseAgentIp(written.join("."))).toBeNull();
        },
      ),
    );
  });
});

describe("agent_ip through POST /v1/claims", () => {
  let t: TestServer;
  let s: ServiceSetup;
  beforeAll(async () => {
    t = await startTestServer();
    s = await ownerWithKey(t);
  });
  afterAll(() => t.close());

  test.each([
    ["203.0.113.9:4711", "203.0.113.9"],
    ["[2001:db8::1]:443", "2001:db8::1"],
    ["2001:DB8::1", "2001:db8::1"],
  ])("%p → 201, stored as %p (port dropped)", async (given, stored) => {
    const res = await submitClaim<ClaimSubmitted>(
      t,
      await newAgent(s.namespace),
      s.apiKey,
      s.slug,
      {
        agent_ip: given,
      },
    );
    expect(res.status).toBe(201);
    const claim = await s.client.get<ClaimWithHistory>(`/v1/claims/${res.body.claim_id}`);
    expect(claim.body.agent_ip).toBe(stored);
  });

  test.each(["0x7f.1", "1.2.3", "127.1", "010.0.0.1", "2130706433", "1.2.3.4:99999"])(
    "%p → 400 VALIDATION_ERROR agent_ip",
    async (given) => {
      const res = await submitClaim<ApiErrorBody>(
        t,
        await newAgent(s.namespace),
        s.apiKey,
        s.slug,
        {
          agent_ip: given,
        },
      );
      expectValidation(res, "agent_ip");
    },
  );
});
