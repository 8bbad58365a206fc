/**
 * The log stream breaking never stops the server (quality.md §3): with its stdout and stderr on a
 * pipe whose reader has gone, or on a full device, a real `sigilum serve` process keeps answering,
 * and /metrics counts the log lines it had to drop.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type ServerProcess, spawnServer } from "../helpers/process.ts";

let server: ServerProcess | undefined;

afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function droppedLines(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("sigilum_log_lines_dropped_total"));
  return line ? Number(line.split(" ").pop()) : Number.NaN;
}

/** 40 requests, each logged; every one must be answered. */
async function keepsServing(url: string) {
  for (let i = 0; i < 40; i++) {
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
}

describe("a broken log stream", () => {
  test("a pipe whose reader closed: the server keeps serving and counts the dropped lines", async () => {
    server = await spawnServer({ output: "pipe" });
    const stdout = server.child.stdout as ReadableStream<Uint8Array>;
    // The helper reads stderr (for the bound port); closing its reader closes that pipe.
    await Promise.all([stdout.cancel(), server.log!.close()]);
    await Bun.sleep(50);
    await keepsServing(server.url);
    expect(server.child.exitCode).toBeNull();
    expect(await droppedLines(server.url)).toBeGreaterThanOrEqual(40);
  });

  test("a full device (/dev/full): the server starts, keeps serving and counts the dropped lines", async () => {
    server = await spawnServer({ output: Bun.file("/dev/full") });
    await keepsServing(server.url);
    expect(server.child.exitCode).toBeNull();
    expect(await droppedLines(server.url)).toBeGreaterThanOrEqual(40);
  });
});
