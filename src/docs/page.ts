import type { Operation } from "./openapi.ts";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

type Spec = {
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
};

/** A self-contained reference page (no CDN: the appliance must work offline). */
export function renderDocsPage(spec: Spec): string {
  const rows = Object.entries(spec.paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => {
        const params = (op.parameters ?? [])
          .map((p) => `${p.name} (${p.in}${p.required ? ", required" : ""})`)
          .join(", ");
        const body = op.requestBody
          ? `<details><summary>body schema</summary><pre>${escapeHtml(JSON.stringify(op.requestBody, null, 2))}</pre></details>`
          : "";
        return `<tr><td class="m ${method}">${method.toUpperCase()}</td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary ?? "")}${body}</td><td>${escapeHtml(params)}</td></tr>`;
      }),
    )
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(spec.info.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d1d1f}
table{border-collapse:collapse;width:100%}td{border-top:1px solid #ddd;padding:.4rem .6rem;vertical-align:top}
.m{font-weight:700;font-family:monospace}.get{color:#0a7}.post{color:#06c}.patch{color:#a60}.delete{color:#c22}.put{color:#70c}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:12px}</style></head><body>
<h1>${escapeHtml(spec.info.title)} <small>${escapeHtml(spec.info.version)}</small></h1>
<p>Machine-readable description: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors share one shape:
<code>{"error","code","details?","request_id"}</code>.</p>
<table><thead><tr><th>method</th><th>path</th><th>what</th><th>parameters</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`;
}
