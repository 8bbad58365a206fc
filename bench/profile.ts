// Summarises a Chrome-format CPU profile (`bun --cpu-prof`): self time by area (libsql, drizzle,
// elysia, each src/ file, native functions) and by function, and the inclusive time of src/
// functions. Usage:
//   BENCH_SERVER_FLAGS="--cpu-prof --cpu-prof-interval=250 --cpu-prof-dir=/tmp/prof" npx bun bench/claims.ts
//   npx bun bench/profile.ts /tmp/prof/*.cpuprofile
// (`--cpu-prof-md`'s self times mis-attribute JIT code here: it gave drizzle's buildOrderBy 4 % of
// a claims run in which it ran 175 times. The .cpuprofile's samples are right; read those.)
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
}

function nameOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^.*\/(src|node_modules)\//, "$1/");
  return `${functionName || "(anonymous)"} ${where}${url ? `:${lineNumber}` : ""}`;
}

function areaOf(node: ProfileNode): string {
  const { functionName, url } = node.callFrame;
  if (url.includes("drizzle-orm")) return "drizzle";
  if (url.includes("node_modules/libsql") || functionName.startsWith("libsql_js")) return "libsql";
  if (url.includes("elysia")) return "elysia";
  if (url.includes("/src/")) return `src/${url.split("/src/")[1]}`;
  if (url === "") return `native ${functionName}`;
  return `other ${url.split("/").at(-1)}`;
}

function top(counts: Map<string, number>, total: number, n: number): string[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, c]) => `${((100 * c) / total).toFixed(1).padStart(5)} %  ${key}`);
}

function add(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function summarise(file: string): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const byArea = new Map<string, number>();
  const bySelf = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, count] of hits) {
    const node = nodes.get(id)!;
    add(byArea, areaOf(node), count);
    add(bySelf, nameOf(node), count);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = nameOf(nodes.get(at)!);
      if (name.includes("src/") && !seen.has(name)) add(inclusive, name, count);
      seen.add(name);
    }
  }
  return [
    `# ${file}: ${total} samples`,
    "",
    "## self time by area",
    ...top(byArea, total, 25),
    "",
    "## self time by function",
    ...top(bySelf, total, 30),
    "",
    "## inclusive time of src/ functions",
    ...top(inclusive, total, Number(process.env.PROFILE_TOP ?? 30)),
  ].join("\n");
}

for (const file of process.argv.slice(2)) console.log(summarise(file));
