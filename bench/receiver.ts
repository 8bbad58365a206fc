// A webhook receiver for the delivery benchmark, run as its own process:
//   bun bench/receiver.ts <port>     POST anything → 200 "ok"; GET /count → how many POSTs so far
const port = Number(process.argv[2]);
let received = 0;
Bun.serve({
  hostname: "127.0.0.1",
  port,
  async fetch(request) {
    if (request.method === "GET") return new Response(String(received));
    await request.arrayBuffer();
    received++;
    return new Response("ok");
  },
});
