import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { formatIp, parseIp } from "../../src/net/index.ts";
import type { UrlPolicy } from "../../src/webhooks/ssrfGuard.ts";
import {
  blockedReason,
  checkAddress,
  checkWebhookUrl,
  defaultResolve,
} from "../../src/webhooks/ssrfGuard.ts";
import { cidr, ip, LOOPBACK_FORMS } from "../helpers/addresses.ts";

interface Harness {
  policy: UrlPolicy;
  calls: string[];
}

function harness(answers: string[] | Error = ["93.184.215.14"], extra: Partial<UrlPolicy> = {}) {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    if (answers instanceof Error) throw answers;
    return answers;
  };
  const policy: UrlPolicy = {
    allowHttp: false,
    allowPrivate: false,
    allowedCidrs: [],
    resolve,
    ...extra,
  };
  return { policy, calls } satisfies Harness;
}

async function rejection(raw: string, h: Harness = harness()): Promise<string> {
  const result = await checkWebhookUrl(raw, h.policy);
  if (result.ok) throw new Error(`expected ${raw} to be rejected`);
  return result.reason;
}

async function acceptance(raw: string, h: Harness = harness()): Promise<string[]> {
  const result = await checkWebhookUrl(raw, h.policy);
  if (!result.ok) throw new Error(`expected ${raw} to be accepted, got: ${result.reason}`);
  return result.resolved;
}

// [range, first, last, label, outside neighbours that must be public]
const BLOCKED_V4: [string, string, string, string, string[]][] = [
  ["0.0.0.0/8", "0.0.0.0", "0.255.255.255", "this network", ["1.0.0.0"]],
  ["10.0.0.0/8", "10.0.0.0", "10.255.255.255", "private", ["9.255.255.255", "11.0.0.0"]],
  ["100.64.0.0/10", "100.64.0.0", "100.127.255.255", "", ["100.63.255.255", "100.128.0.0"]],
  ["127.0.0.0/8", "127.0.0.0", "127.255.255.255", "loopback", ["126.255.255.255", "128.0.0.0"]],
  ["169.254.0.0/16", "169.254.0.0", "169.254.255.255", "link-local", ["169.253.255.255"]],
  ["172.16.0.0/12", "172.16.0.0", "172.31.255.255", "private", ["172.15.255.255", "172.32.0.0"]],
  ["192.0.0.0/24", "192.0.0.0", "192.0.0.255", "", ["191.255.255.255", "192.0.1.0"]],
  ["192.0.2.0/24", "192.0.2.0", "192.0.2.255", "documentation", ["192.0.1.255", "192.0.3.0"]],
  ["192.88.99.0/24", "192.88.99.0", "192.88.99.255", "", ["192.88.98.255", "192.88.100.0"]],
  ["192.168.0.0/16", "192.168.0.0", "192.168.255.255", "private", ["192.169.0.0"]],
  ["198.18.0.0/15", "198.18.0.0", "198.19.255.255", "benchmarking", ["198.17.255.255"]],
  ["198.51.100.0/24", "198.51.100.0", "198.51.100.255", "", ["198.51.99.255", "198.51.101.0"]],
  ["203.0.113.0/24", "203.0.113.0", "203.0.113.255", "", ["203.0.112.255", "203.0.114.0"]],
  ["224.0.0.0/4", "224.0.0.0", "239.255.255.255", "multicast", ["223.255.255.255"]],
  ["240.0.0.0/4", "240.0.0.0", "255.255.255.254", "reserved", []],
  ["255.255.255.255/32", "255.255.255.255", "255.255.255.255", "broadcast", []],
];

const BLOCKED_V6: [string, string, string, string[]][] = [
  ["::/128", "::", "::", []],
  ["::1/128", "::1", "::1", []],
  ["fc00::/7", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ["fbff::1", "fe00::"]],
  ["fe80::/10", "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ["fe7f::1"]],
  ["ff00::/8", "ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ["feff::1"]],
  [
    "2001:db8::/32",
    "2001:db8::",
    "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
    ["2001:db7:ffff::1", "2001:db9::"],
  ],
  ["100::/64", "100::", "100::ffff:ffff:ffff:ffff", ["100:0:0:1::", "ff:ffff::1"]],
];

const PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "2001:4860:4860::8888"];

describe("blockedReason", () => {
  test.each(BLOCKED_V4)("%s blocks %s and %s (%s)", (range, first, last, label, outside) => {
    for (const address of [first, last]) {
      const reason = blockedReason(ip(address));
      expect(reason).toStartWith(`${range} (`);
      expect(reason).toContain(label);
    }
    for (const address of outside) expect(blockedReason(ip(address))).toBeNull();
  });

  test.each(BLOCKED_V6)("%s blocks %s and %s", (range, first, last, outside) => {
    expect(blockedReason(ip(first))).toStartWith(`${range} (`);
    expect(blockedReason(ip(last))).toStartWith(`${range} (`);
    for (const address of outside) expect(blockedReason(ip(address))).toBeNull();
  });

  test("names the range and its kind", () => {
    expect(blockedReason(ip("127.0.0.1"))).toBe("127.0.0.0/8 (loopback)");
    expect(blockedReason(ip("::1"))).toBe("::1/128 (loopback)");
  });

  test.each(PUBLIC)("%s is public", (address) => {
    expect(blockedReason(ip(address))).toBeNull();
  });

  test.each([
    ["::ffff:10.0.0.1", "10.0.0.0/8", "IPv4-mapped"],
    ["::ffff:127.0.0.1", "127.0.0.0/8", "IPv4-mapped"],
    ["::10.0.0.1", "10.0.0.0/8", "IPv4-compatible"],
    ["::169.254.169.254", "169.254.0.0/16", "IPv4-compatible"],
    ["64:ff9b::127.0.0.1", "127.0.0.0/8", "NAT64"],
    ["64:ff9b::192.168.1.1", "192.168.0.0/16", "NAT64"],
    ["2002:c0a8:0101::", "192.168.0.0/16", "6to4"],
    ["2002:7f00:0001:ffff::1", "127.0.0.0/8", "6to4"],
  ])("%s embeds a blocked IPv4 (%s via %s)", (address, inner, via) => {
    const reason = blockedReason(ip(address));
    expect(reason).toContain(inner);
    expect(reason).toContain(via);
  });

  test.each(["::ffff:8.8.8.8", "::8.8.8.8", "64:ff9b::1.1.1.1", "2002:0808:0808::1"])(
    "%s embeds a public IPv4 and is allowed",
    (address) => {
      expect(blockedReason(ip(address))).toBeNull();
    },
  );
});

describe("checkAddress", () => {
  const strict = { allowPrivate: false, allowedCidrs: [] };

  test("a blocked address names the address, range and both settings", () => {
    const reason = checkAddress(ip("10.0.0.5"), strict);
    expect(reason).toContain("10.0.0.5");
    expect(reason).toContain("10.0.0.0/8");
    expect(reason).toContain("SIGILUM_WEBHOOK_ALLOW_PRIVATE=true");
    expect(reason).toContain("SIGILUM_WEBHOOK_ALLOWED_CIDRS");
  });

  test("public addresses pass", () => {
    for (const address of PUBLIC) expect(checkAddress(ip(address), strict)).toBeNull();
  });

  test("allowPrivate lifts the check entirely", () => {
    const open = { allowPrivate: true, allowedCidrs: [] };
    for (const address of ["127.0.0.1", "10.0.0.1", "::1", "fe80::1", "::ffff:192.168.0.1"]) {
      expect(checkAddress(ip(address), open)).toBeNull();
    }
  });

  test("allowedCidrs allows the chosen ranges only", () => {
    const policy = { allowPrivate: false, allowedCidrs: [cidr("10.0.0.0/8"), cidr("fd00::/8")] };
    expect(checkAddress(ip("10.20.30.40"), policy)).toBeNull();
    expect(checkAddress(ip("::ffff:10.20.30.40"), policy)).toBeNull();
    expect(checkAddress(ip("fd12:3456::1"), policy)).toBeNull();
    expect(checkAddress(ip("192.168.1.1"), policy)).toContain("192.168.0.0/16");
    expect(checkAddress(ip("fc00::1"), policy)).toContain("fc00::/7");
    expect(checkAddress(ip("127.0.0.1"), policy)).toContain("127.0.0.0/8");
    expect(checkAddress(ip("64:ff9b::10.0.0.1"), policy)).toContain("NAT64");
  });
});

describe("checkWebhookUrl: URL shape", () => {
  test("accepts a public https URL with any port and returns normalised addresses", async () => {
    const h = harness([
      "93.184.215.14",
      "2606:2800:021f:cb07:6820:80da:af6b:8b2c",
      "93.184.215.14",
    ]);
    const resolved = await acceptance("https://Example.com:8443/hooks?x=1", h);
    expect(resolved).toEqual(["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]);
    expect(h.calls).toEqual(["example.com"]);
  });

  test("http is rejected unless allowHttp", async () => {
    expect(await rejection("http://example.com/")).toBe(
      "webhook URL must use https (set SIGILUM_WEBHOOK_ALLOW_HTTP=true to allow http)",
    );
    await acceptance("http://example.com/", harness(undefined, { allowHttp: true }));
  });

  test.each([
    "ftp://example.com/",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "ws://example.com/",
  ])("%s is rejected even with allowHttp", async (raw) => {
    expect(await rejection(raw)).toBe("webhook URL must use https");
    const lenient = harness(undefined, { allowHttp: true });
    expect(await rejection(raw, lenient)).toBe("webhook URL must use https or http");
  });

  test.each([
    "https://user:pass@example.com/",
    "https://user@example.com/",
    "https://:secret@example.com/",
  ])("%s is rejected for credentials", async (raw) => {
    expect(await rejection(raw)).toBe("webhook URL must not contain credentials");
  });

  test.each(["", "not a url", "example.com/hook", "/relative/path", "//example.com/x", "https://"])(
    "%p is not an absolute URL",
    async (raw) => {
      expect(await rejection(raw)).toBe("webhook URL must be an absolute URL");
    },
  );

  test("URLs longer than 2048 characters are rejected, 2048 is accepted", async () => {
    const base = "https://example.com/";
    const exact = base + "a".repeat(2048 - base.length);
    expect(exact.length).toBe(2048);
    await acceptance(exact);
    expect(await rejection(`${exact}a`)).toBe("webhook URL must be at most 2048 characters");
  });

  test("the length limit applies to the normalised URL too", async () => {
    const raw = `https://example.com/${" ".repeat(700)}x`;
    expect(raw.length).toBeLessThan(2048);
    expect(await rejection(raw)).toBe("webhook URL must be at most 2048 characters");
  });
});

describe("checkWebhookUrl: host names", () => {
  test.each([
    ["https://localhost/", "localhost"],
    ["https://LOCALHOST./", "localhost."],
    ["https://api.localhost/", "api.localhost"],
    ["https://printer.local/", "printer.local"],
    ["https://Printer.LOCAL./", "printer.local."],
    ["https://db.internal:5432/", "db.internal"],
    ["https://metadata.google.internal/", "metadata.google.internal"],
  ])("%s is rejected without resolving", async (raw, host) => {
    const h = harness();
    expect(await rejection(raw, h)).toBe(
      `webhook host '${host}' is not allowed (a local name; set SIGILUM_WEBHOOK_ALLOW_PRIVATE=true to allow it)`,
    );
    expect(h.calls).toEqual([]);
  });

  test.each([
    "https://localhost.example.com/",
    "https://internal.example.com/",
    "https://mylocal/",
  ])("%s only looks reserved and is resolved normally", async (raw) => {
    const h = harness();
    await acceptance(raw, h);
    expect(h.calls).toHaveLength(1);
  });
});

describe("checkWebhookUrl: IP literal hosts", () => {
  test.each([
    ...LOOPBACK_FORMS.map((form) => `https://${form}/`),
    "https://[::1]/",
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::127.0.0.1]/",
    "https://[64:ff9b::7f00:1]/",
    "https://[2002:7f00:1::]/",
  ])("%s is rejected as loopback without resolving", async (raw) => {
    const h = harness();
    const reason = await rejection(raw, h);
    expect(reason).toContain("loopback");
    expect(reason).toContain("SIGILUM_WEBHOOK_ALLOW_PRIVATE");
    expect(h.calls).toEqual([]);
  });

  test("names the offending literal", async () => {
    expect(await rejection("https://10.0.0.5/")).toBe(
      "webhook host 10.0.0.5 is a private address in 10.0.0.0/8 (private); " +
        "set SIGILUM_WEBHOOK_ALLOW_PRIVATE=true or SIGILUM_WEBHOOK_ALLOWED_CIDRS to allow it",
    );
  });

  test.each([
    ["https://8.8.8.8/hook", "8.8.8.8"],
    ["https://[2606:4700::1111]:8443/", "2606:4700::1111"],
    ["https://[::ffff:8.8.8.8]/", "::ffff:8.8.8.8"],
    ["https://[2002:808:808::1]/", "2002:808:808::1"],
  ])("%s is public and accepted without resolving", async (raw, address) => {
    const h = harness();
    expect(await acceptance(raw, h)).toEqual([address]);
    expect(h.calls).toEqual([]);
  });

  test("allowPrivate and allowedCidrs apply to literals", async () => {
    await acceptance("https://10.0.0.5/", harness(undefined, { allowPrivate: true }));
    const allowed = harness(undefined, { allowedCidrs: [cidr("10.0.0.0/8")] });
    await acceptance("https://10.0.0.5/", allowed);
    await acceptance("https://[::ffff:10.0.0.5]/", allowed);
    expect(await rejection("https://192.168.0.5/", allowed)).toContain("192.168.0.0/16");
  });
});

describe("checkWebhookUrl: resolved addresses", () => {
  test("every resolved address must be public: [public, private] is rejected", async () => {
    const reason = await rejection("https://hooks.example.com/", harness(["8.8.8.8", "10.0.0.5"]));
    expect(reason).toBe(
      "webhook host 'hooks.example.com' resolves to a blocked address: 10.0.0.5 is a private " +
        "address in 10.0.0.0/8 (private); set SIGILUM_WEBHOOK_ALLOW_PRIVATE=true or " +
        "SIGILUM_WEBHOOK_ALLOWED_CIDRS to allow it",
    );
  });

  test.each([
    ["2130706433", "127.0.0.1"],
    ["0x7f.1", "127.0.0.1"],
    ["::ffff:127.0.0.1", "::ffff:127.0.0.1"],
    ["fe80::1%eth0", "fe80::1"],
    ["[fd00::1]", "fd00::1"],
  ])("a resolver answer %p is parsed to bytes and caught as %s", async (answer, shown) => {
    const reason = await rejection("https://hooks.example.com/", harness(["1.1.1.1", answer]));
    expect(reason).toContain(`blocked address: ${shown} is a private address`);
  });

  test("an answer that is not an IP address is rejected", async () => {
    const reason = await rejection("https://hooks.example.com/", harness(["evil.example"]));
    expect(reason).toContain("'evil.example', not an IP address");
  });

  test("a throwing or empty resolver leaves the URL accepted with nothing resolved", async () => {
    expect(await acceptance("https://hooks.example.com/", harness(new Error("ENOTFOUND")))).toEqual(
      [],
    );
    expect(await acceptance("https://hooks.example.com/", harness([]))).toEqual([]);
  });

  test("allowPrivate skips resolution", async () => {
    const h = harness(["10.0.0.5"], { allowPrivate: true });
    expect(await acceptance("https://hooks.example.com/", h)).toEqual([]);
    expect(h.calls).toEqual([]);
  });

  test("allowedCidrs admits answers inside the ranges only", async () => {
    const allowed = { allowedCidrs: [cidr("10.0.0.0/8"), cidr("fd00::/8")] };
    const inside = harness(["10.0.0.5", "fd00::5", "::ffff:10.1.1.1"], allowed);
    expect(await acceptance("https://hooks.example.com/", inside)).toEqual([
      "10.0.0.5",
      "fd00::5",
      "::ffff:10.1.1.1",
    ]);
    const outside = harness(["10.0.0.5", "172.16.0.1"], allowed);
    expect(await rejection("https://hooks.example.com/", outside)).toContain("172.16.0.1");
  });
});

describe("defaultResolve", () => {
  test("a name that cannot exist rejects with the resolver's error code", async () => {
    const failure = await defaultResolve("no-such-host.invalid").catch((err: unknown) => err);
    expect((failure as { code?: string }).code).toMatch(/^E[A-Z_]+$/);
  });

  test("a lookup slower than the limit rejects with ETIMEOUT", async () => {
    const never = () => new Promise<never>(() => undefined);
    const failure = await defaultResolve("localhost", { timeoutMs: 10, lookup: never }).catch(
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as { code?: string }).code).toBe("ETIMEOUT");
  });

  test("resolves localhost through the OS resolver to loopback addresses", async () => {
    const addresses = await defaultResolve("localhost");
    expect(addresses.length).toBeGreaterThan(0);
    for (const address of addresses) expect(blockedReason(ip(address))).toContain("loopback");
  });
});
describe("properties", () => {
  const v4Bytes = fc.uint8Array({ minLength: 4, maxLength: 4 });

  test("IPv4 formatIp -> parseIp round-trips and blocks exactly like its mapped form", () => {
    fc.assert(
      fc.property(v4Bytes, (bytes) => {
        const text = formatIp(bytes);
        expect(parseIp(text)).toEqual(bytes);
        const mapped = ip(`::ffff:${text}`);
        expect(mapped.subarray(12)).toEqual(bytes);
        expect(blockedReason(bytes) === null).toBe(blockedReason(mapped) === null);
      }),
    );
  });
});
