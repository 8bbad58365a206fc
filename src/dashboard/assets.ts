import type { BuiltFile } from "./build.ts";

/** One servable file: its bytes, type, and a gzip copy made the first time a client accepts it. */
export interface Asset {
  name: string;
  type: string;
  bytes: Uint8Array<ArrayBuffer>;
  gzipped?: Uint8Array<ArrayBuffer>;
}

export interface Assets {
  shell: string;
  byName: Map<string, Asset>;
}

const encoder = new TextEncoder();

function toAsset(file: BuiltFile): Asset {
  const bytes = file.base64
    ? new Uint8Array(Buffer.from(file.body, "base64"))
    : new Uint8Array(encoder.encode(file.body));
  const type = file.type.replace(/;\s*charset=/i, "; charset=");
  return { name: file.name, type, bytes };
}

/** The HTML shell: no inline script or style, so the strict CSP holds. */
function renderShell(scripts: string[], styles: string[]): string {
  const links = styles.map((name) => `<link rel="stylesheet" href="/assets/${name}">`).join("");
  const tags = scripts
    .map((name) => `<script type="module" src="/assets/${name}"></script>`)
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Sigilum</title>
<link rel="icon" href="data:,">
${links}${tags}
</head>
<body>
<div id="app"><noscript>The Sigilum dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
}

export function loadAssets(files: BuiltFile[]): Assets {
  const byName = new Map(files.map((file) => [file.name, toAsset(file)]));
  const scripts = files.filter((f) => f.kind === "entry-point" && f.name.endsWith(".js"));
  const styles = files.filter((f) => f.name.endsWith(".css"));
  return {
    shell: renderShell(
      scripts.map((f) => f.name),
      styles.map((f) => f.name),
    ),
    byName,
  };
}

/** The asset's bytes, gzipped when the client accepts it (computed once). */
export function encodedBody(asset: Asset, acceptEncoding: string | null) {
  if (!/\bgzip\b/.test(acceptEncoding ?? "")) return { body: asset.bytes, encoding: null };
  asset.gzipped ??= new Uint8Array(Bun.gzipSync(asset.bytes));
  return { body: asset.gzipped, encoding: "gzip" };
}
