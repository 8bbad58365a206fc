/**
 * Bundles the dashboard's browser code with Bun's bundler and prints the files as JSON on stdout.
 * Run as a child process by the `bundleDashboard` macro (bundle.ts): Bun refuses `Bun.build`
 * inside a macro (the bundler would wait on itself), so the macro spawns this script instead.
 */
import { resolve } from "node:path";

const ENTRY = resolve(import.meta.dir, "app/main.tsx");

export interface BuiltFile {
  /** File name under /assets/, content-hashed (`app-<hash>.js`). */
  name: string;
  kind: string;
  type: string;
  /** UTF-8 text, or base64 when `base64` is true. */
  body: string;
  base64: boolean;
}

const isText = (type: string) => /^(text\/|application\/(json|javascript))|svg/.test(type);

async function build(): Promise<BuiltFile[]> {
  const result = await Bun.build({
    entrypoints: [ENTRY],
    target: "browser",
    format: "esm",
    minify: true,
    splitting: false,
    naming: { entry: "app-[hash].[ext]", asset: "app-[hash].[ext]", chunk: "chunk-[hash].[ext]" },
    define: { "process.env.NODE_ENV": '"production"' },
    throw: false,
  });
  if (!result.success) throw new Error(result.logs.map(String).join("\n"));
  const files: BuiltFile[] = [];
  for (const out of result.outputs) {
    const name = out.path.replace(/^.*\//, "");
    const base64 = !isText(out.type);
    const body = base64
      ? Buffer.from(await out.arrayBuffer()).toString("base64")
      : await out.text();
    files.push({ name, kind: out.kind, type: out.type, body, base64 });
  }
  return files;
}

if (import.meta.main) {
  try {
    process.stdout.write(JSON.stringify(await build()));
  } catch (error) {
    console.error(`dashboard build failed: ${(error as Error).message}`);
    process.exit(1);
  }
}
