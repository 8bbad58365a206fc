/**
 * BoundedCache.load: one shared lookup per key while it is in flight (no thundering herd when an
 * entry expires), and a lookup that was in flight when the key was invalidated never fills the
 * cache with the answer it read before the change (no stale fill after a revoke).
 */
import { describe, expect, test } from "bun:test";
import { BoundedCache } from "../src/cache.ts";
import type { Clock } from "../src/clock.ts";

const clock: Clock = { now: () => 1_000 };

/** A loader the test resolves or rejects by hand, counting how often it was started. */
function deferredLoader<V>() {
  const started: { resolve: (v: V) => void; reject: (e: unknown) => void }[] = [];
  const loader = () =>
    new Promise<V>((resolve, reject) => {
      started.push({ resolve, reject });
    });
  return { loader, started };
}

describe("BoundedCache.load", () => {
  test("a hit returns the stored value without calling the loader", async () => {
    const cache = new BoundedCache<string>(clock, 60_000);
    cache.set("k", "stored");
    const { loader, started } = deferredLoader<string>();
    expect(await cache.load("k", loader)).toBe("stored");
    expect(started.length).toBe(0);
    expect(cache.hits).toBe(1);
  });

  test("a miss stores the loaded value", async () => {
    const cache = new BoundedCache<string>(clock, 60_000);
    const { loader, started } = deferredLoader<string>();
    const pending = cache.load("k", loader);
    started[0]!.resolve("fresh");
    expect(await pending).toBe("fresh");
    expect(cache.get("k")).toBe("fresh");
  });

  test("delete(key) while the loader is in flight: its value is not stored", async () => {
    const cache = new BoundedCache<string>(clock, 60_000);
    const { loader, started } = deferredLoader<string>();
    const pending = cache.load("k", loader);
    cache.delete("k"); // e.g. the revoke committed and forgot the entry
    started[0]!.resolve("authorized (read before the revoke)");
    expect(await pending).toBe("authorized (read before the revoke)");
    expect(cache.get("k")).toBeUndefined();
  });

  test("clear() while the loader is in flight: its value is not stored", async () => {
    const cache = new BoundedCache<string>(clock, 60_000);
    const { loader, started } = deferredLoader<string>();
    const pending = cache.load("k", loader);
    cache.clear();
    started[0]!.resolve("stale");
    await pending;
    expect(cache.get("k")).toBeUndefined();
  });

  test("deleting another key does not stop the value being stored", async () => {
    const cache = new BoundedCache<string>(clock, 60_000);
    const { loader, started } = deferredLoader<string>();
    const pending = cache.load("k", loader);
    cache.delete("other");
    started[0]!.resolve("fresh");
    await pending;
    expect(cache.get("k")).toBe("fresh");
  });

  test("50 concurrent callers share one loader call and all get its value", async () => {
    const cache = new BoundedCache<string>(clock, 60_000);
    const { loader, started } = deferredLoader<string>();
    const callers = Array.from({ length: 50 }, () => cache.load("k", loader));
    expect(started.length).toBe(1);
    started[0]!.resolve("shared");
    expect(await Promise.all(callers)).toEqual(Array(50).fill("shared"));
    expect(cache.misses).toBe(1); // one lookup started
    expect(cache.hits).toBe(49); // answered without a lookup of their own
  });

  test("a caller after delete starts a fresh loader; callers that joined before keep the old answer", async () => {
    const cache = new BoundedCache<string>(clock, 60_000);
    const { loader, started } = deferredLoader<string>();
    const before = [cache.load("k", loader), cache.load("k", loader)];
    cache.delete("k");
    const after = cache.load("k", loader);
    expect(started.length).toBe(2);
    started[1]!.resolve("new");
    started[0]!.resolve("old");
    expect(await Promise.all(before)).toEqual(["old", "old"]);
    expect(await after).toBe("new");
    // The older lookup finishing last must not overwrite the newer one's answer.
    expect(cache.get("k")).toBe("new");
  });

  test("a rejected loader rejects every joined caller, caches nothing, and the next call reloads", async () => {
    const cache = new BoundedCache<string>(clock, 60_000);
    const { loader, started } = deferredLoader<string>();
    const callers = Array.from({ length: 5 }, () => cache.load("k", loader));
    started[0]!.reject(new Error("database down"));
    const outcomes = await Promise.allSettled(callers);
    expect(outcomes.every((o) => o.status === "rejected")).toBe(true);
    expect(cache.get("k")).toBeUndefined();
    const retry = cache.load("k", loader);
    expect(started.length).toBe(2);
    started[1]!.resolve("recovered");
    expect(await retry).toBe("recovered");
    expect(cache.get("k")).toBe("recovered");
  });

  test("a loader that throws synchronously rejects and is not kept in flight", async () => {
    const cache = new BoundedCache<string>(clock, 60_000);
    const boom = () => {
      throw new Error("boom");
    };
    await expect(cache.load("k", boom)).rejects.toThrow("boom");
    expect(await cache.load("k", async () => "ok")).toBe("ok");
  });

  test("undefined (not found) is shared but not stored", async () => {
    const cache = new BoundedCache<string>(clock, 60_000);
    const { loader, started } = deferredLoader<string | undefined>();
    const callers = [cache.load("k", loader), cache.load("k", loader)];
    started[0]!.resolve(undefined);
    expect(await Promise.all(callers)).toEqual([undefined, undefined]);
    expect(started.length).toBe(1);
    cache.load("k", loader);
    expect(started.length).toBe(2);
  });

  test("TTL 0: concurrent callers share the lookup in flight, nothing is stored", async () => {
    const cache = new BoundedCache<string>(clock, 0);
    const { loader, started } = deferredLoader<string>();
    const callers = Array.from({ length: 10 }, () => cache.load("k", loader));
    expect(started.length).toBe(1);
    started[0]!.resolve("v");
    expect(await Promise.all(callers)).toEqual(Array(10).fill("v"));
    expect(cache.get("k")).toBeUndefined();
    const next = cache.load("k", loader);
    expect(started.length).toBe(2);
    started[1]!.resolve("v2");
    expect(await next).toBe("v2");
  });

  test("an expired entry is reloaded once for all callers", async () => {
    let now = 0;
    const cache = new BoundedCache<string>({ now: () => now }, 1_000);
    cache.set("k", "old");
    now = 5_000;
    const { loader, started } = deferredLoader<string>();
    const callers = Array.from({ length: 20 }, () => cache.load("k", loader));
    expect(started.length).toBe(1);
    started[0]!.resolve("renewed");
    expect(await Promise.all(callers)).toEqual(Array(20).fill("renewed"));
    expect(cache.get("k")).toBe("renewed");
  });
});
