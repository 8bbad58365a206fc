export interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}

export type Responder = (req: Received, index: number) => Response | Promise<Response>;

/** A real webhook receiver on loopback that records every request and answers with `responder`. */
export function startReceiver(responder: Responder = () => new Response("ok")) {
  const received: Received[] = [];
  let respond = responder;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const entry: Received = {
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
        at: Date.now(),
      };
      received.push(entry);
      return respond(entry, received.length - 1);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port,
    received,
    respondWith(next: Responder) {
      respond = next;
    },
    /** Waits until `n` requests arrived (bounded). */
    async waitFor(n: number, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n && Date.now() < deadline) await Bun.sleep(10);
      return received.slice(0, n);
    },
    stop: () => server.stop(true),
  };
}
