// `npm run bench`: runs every benchmark and prints its table (quality.md §5).
import { cpus, totalmem } from "node:os";
import { coldStartBench } from "./coldStart.ts";

const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Bun ${Bun.version}`;
console.log(`# Sigilum benchmarks — ${new Date().toISOString()}\n# ${machine}\n`);
console.log(await coldStartBench());
