/**
 * What removes usage events: SIGILUM_USAGE_RETENTION (the pruning job, on a ManualClock), the
 * namespace owner's account deletion; and what keeps them: deleting the reporting service.
 */
import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { pruneUsageEvents } from "../../src/usage/index.ts";
import { newAgent } from "../helpers/agent.ts";
import { ManualClock, signUp, startTestServer } from "../helpers/server.ts";
import { ownerWithKey } from "../helpers/setup.ts";
import type { Deleted, UsageEventList, UsageReport } from "../helpers/types.ts";
import { gatewayEvent, report, serviceClient, usageRows } from "./support.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe("usage retention", () => {
  test("SIGILUM_USAGE_RETENTION defaults to 90 days and is validated at start-up", () => {
    expect(loadConfig({}).usageRetention).toBe(90 * DAY);
    expect(loadConfig({ SIGILUM_USAGE_RETENTION: "7d" }).usageRetention).toBe(7 * DAY);
    for (const bad of ["soon", "0s", "-1d", "5000d"])
      expect(() => loadConfig({ SIGILUM_USAGE_RETENTION: bad })).toThrow(/SIGILUM_USAGE_RETENTION/);
  });

  test("events older than the retention are pruned, in batches; newer ones stay", async () => {
    const clock = new ManualClock();
    const t = await startTestServer({ clock, env: { SIGILUM_USAGE_RETENTION: "2d" } });
    try {
      const s = await ownerWithKey(t);
      const owner = await signUp(t);
      const key = (await newAgent(owner.namespace)).publicKey;
      const client = serviceClient(t, s.apiKey);
      const post = async (id: string) => {
        const body = gatewayEvent(owner.namespace, s.slug, key, { event_id: id });
        expect((await report(client, body)).status).toBe(201);
      };
      for (const id of ["old-1", "old-2", "old-3", "old-4", "old-5"]) await post(id);
      clock.advance(DAY);
      await post("recent");

      clock.advance(DAY - 1);
      expect(await pruneUsageEvents(t.server.ctx)).toBe(0);
      clock.advance(1);
      // A batch size of 2 makes the job loop: 2 + 2 + 1.
      expect(await pruneUsageEvents(t.server.ctx, 2)).toBe(5);
      const left = await usageRows(t, "namespace = ?", [owner.namespace]);
      expect(left.map((r) => r.event_id)).toEqual(["recent"]);
      const listed = await owner.client.get<UsageReport>(`/v1/namespaces/${owner.namespace}/usage`);
      expect(listed.body.summary.total_events).toBe(1);

      // A pruned event id can be reported again: it is new to the registry.
      await post("old-1");
      clock.advance(2 * DAY);
      expect(await pruneUsageEvents(t.server.ctx)).toBe(2);
      expect(await usageRows(t)).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

describe("deletion", () => {
  test("deleting the namespace owner's account removes the namespace's events", async () => {
    const t = await startTestServer();
    try {
      const s = await ownerWithKey(t);
      const owner = await signUp(t);
      const key = (await newAgent(owner.namespace)).publicKey;
      const client = serviceClient(t, s.apiKey);
      for (let i = 0; i < 3; i++)
        expect((await report(client, gatewayEvent(owner.namespace, s.slug, key))).status).toBe(201);
      // The reporting service's own namespace keeps its events.
      expect((await report(client, gatewayEvent(s.namespace, s.slug, key))).status).toBe(201);
      expect(await usageRows(t, "namespace = ?", [owner.namespace])).toHaveLength(3);

      expect((await owner.client.delete<Deleted>("/v1/auth/account")).status).toBe(200);
      expect(await usageRows(t, "namespace = ?", [owner.namespace])).toHaveLength(0);
      expect(await usageRows(t, "namespace = ?", [s.namespace])).toHaveLength(1);

      // The namespace is free again, and its new owner starts from nothing.
      const next = await signUp(t, owner.namespace);
      const fresh = await next.client.get<UsageEventList>(
        `/v1/namespaces/${owner.namespace}/usage/events`,
      );
      expect(fresh.status).toBe(200);
      expect(fresh.body.events).toEqual([]);
    } finally {
      await t.close();
    }
  });

  test("deleting the reporting service (or its owner) keeps the events, orphaned", async () => {
    const t = await startTestServer();
    try {
      const s = await ownerWithKey(t);
      const s2 = await ownerWithKey(t);
      const owner = await signUp(t);
      const key = (await newAgent(owner.namespace)).publicKey;
      const first = gatewayEvent(owner.namespace, s.slug, key);
      expect((await report(serviceClient(t, s.apiKey), first)).status).toBe(201);
      const second = gatewayEvent(owner.namespace, s2.slug, key);
      expect((await report(serviceClient(t, s2.apiKey), second)).status).toBe(201);

      expect((await s.client.delete<Deleted>(`/v1/services/${s.serviceId}`)).status).toBe(200);
      expect((await s2.client.delete<Deleted>("/v1/auth/account")).status).toBe(200);

      const res = await owner.client.get<UsageEventList>(
        `/v1/namespaces/${owner.namespace}/usage/events`,
      );
      expect(res.status).toBe(200);
      const byId = Object.fromEntries(
        res.body.events.map((e: { event_id: string }) => [e.event_id, e]),
      );
      expect(byId[first.event_id]).toMatchObject({ service: s.slug, service_id: null });
      expect(byId[second.event_id]).toMatchObject({ service: s2.slug, service_id: null });
      const grouped = await owner.client.get<UsageReport>(
        `/v1/namespaces/${owner.namespace}/usage`,
      );
      expect(grouped.body.summary).toMatchObject({ total_events: 2, unique_providers: 2 });
    } finally {
      await t.close();
    }
  });
});
