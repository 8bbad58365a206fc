import type { OpenApiSpec, Operation } from "./openapi.ts";

// The /docs reference: plain server-rendered HTML from the OpenAPI description, with no script,
// CDN or external asset (the appliance must work offline, and this ships inside the binary).

type Schema = Record<string, unknown>;
type Spec = Pick<OpenApiSpec, "info" | "tags" | "components"> & {
  paths: Record<string, Record<string, Operation>>;
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
const code = (text: string) => `<code>${escapeHtml(text)}</code>`;

const SCHEME_LABELS: Record<string, string> = {
  session: "owner session",
  personalAccessToken: "personal access token",
  serviceApiKey: "service API key",
  agentSignature: "agent signature",
};

/** "Public", or the alternatives of `security`, each a set of credentials all required. */
function authLabel(security: Operation["security"]): string {
  if (security.length === 0) return "Public";
  return security
    .map((requirement) =>
      Object.keys(requirement)
        .map((scheme) => SCHEME_LABELS[scheme] ?? scheme)
        .join(" + "),
    )
    .join(" or ");
}

/** A short type: `string (date-time)`, `integer 1–200`, `"a" | "b"`, `string[]`, `object`. */
function typeOf(schema: Schema): string {
  if ("const" in schema) return JSON.stringify(schema.const);
  const anyOf = schema.anyOf as Schema[] | undefined;
  if (anyOf) return anyOf.map(typeOf).join(" | ");
  if (schema.type === "array") return `${typeOf((schema.items as Schema) ?? {})}[]`;
  let type = String(schema.type ?? "any");
  if (schema.format) type += ` (${schema.format})`;
  if (schema.minimum !== undefined || schema.maximum !== undefined)
    type += ` ${schema.minimum ?? ""}–${schema.maximum ?? ""}`;
  if (schema.maxLength !== undefined) type += ` ≤${schema.maxLength} chars`;
  return type;
}

interface Field {
  name: string;
  type: string;
  required: boolean;
  description?: string;
}

/** The object's fields, nested ones (and array items' fields) as dotted names. */
function fieldsOf(schema: Schema, prefix = "", depth = 0): Field[] {
  const variants = (schema.anyOf as Schema[] | undefined)?.filter((s) => s.type === "object");
  if (variants?.length && depth < 4)
    return variants.flatMap((variant) => fieldsOf(variant, prefix, depth));
  const props = schema.properties as Record<string, Schema> | undefined;
  if (!props || depth >= 4) return [];
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(props).flatMap(([key, prop]) => {
    const name = `${prefix}${key}`;
    const own = {
      name,
      type: typeOf(prop),
      required: required.has(key),
      description: prop.description as string | undefined,
    };
    const items = prop.type === "array" ? (prop.items as Schema | undefined) : undefined;
    const nested = items
      ? fieldsOf(items, `${name}[].`, depth + 1)
      : fieldsOf(prop, `${name}.`, depth + 1);
    return [own, ...nested];
  });
}

function renderSchema(schema: Schema | undefined): string {
  if (!schema) return "";
  const ref = schema.$ref as string | undefined;
  if (ref)
    return `<p class="fields">${code(ref.split("/").at(-1)!)} (see <a href="#errors">errors</a>)</p>`;
  const fields = fieldsOf(schema);
  if (fields.length === 0) return `<p class="fields">${code(typeOf(schema))}</p>`;
  const items = fields.map(
    (f) =>
      `<li>${code(f.name)} <span class="type">${escapeHtml(f.type)}</span>${f.required ? ' <span class="req">required</span>' : ""}${f.description ? ` — ${escapeHtml(f.description)}` : ""}</li>`,
  );
  return `<ul class="fields">${items.join("")}</ul>`;
}

function renderContent(content: Record<string, { schema?: Schema }> | undefined): string {
  if (!content) return "";
  const [first, ...others] = Object.entries(content);
  if (!first) return "";
  const [mediaType, { schema }] = first;
  const also = others.length ? ` (also ${others.map(([m]) => code(m)).join(", ")})` : "";
  return `<p class="media">${code(mediaType)}${also}</p>${renderSchema(schema)}`;
}

function renderParameters(op: Operation): string {
  if (op.parameters.length === 0) return "";
  const items = op.parameters.map((p) => {
    const schema = p.schema as Schema;
    const description = schema.description ? ` — ${escapeHtml(String(schema.description))}` : "";
    return `<li>${code(p.name)} <span class="in">${p.in}</span> <span class="type">${escapeHtml(typeOf(schema))}</span>${p.required ? ' <span class="req">required</span>' : ""}${description}</li>`;
  });
  return `<h4>Parameters</h4><ul class="fields">${items.join("")}</ul>`;
}

function renderResponses(op: Operation, spec: Spec): string {
  const success: string[] = [];
  const errors: string[] = [];
  for (const [status, response] of Object.entries(op.responses)) {
    const ref = (response as { $ref?: string }).$ref;
    const name = ref?.split("/").at(-1);
    const resolved = (
      name ? (spec.components.responses as Record<string, unknown>)[name] : response
    ) as {
      description?: string;
      content?: Record<string, { schema?: Schema }>;
    };
    if (ref) {
      errors.push(
        `<li><b>${escapeHtml(status)}</b> ${escapeHtml(resolved?.description ?? "")}</li>`,
      );
      continue;
    }
    success.push(
      `<li><b>${escapeHtml(status)}</b> ${escapeHtml(resolved.description ?? "")}${renderContent(resolved.content)}</li>`,
    );
  }
  return `<h4>Responses</h4><ul class="responses">${success.join("")}</ul>${errors.length ? `<h4>Errors</h4><ul class="errors">${errors.join("")}</ul>` : ""}`;
}

function renderOperation(method: string, path: string, op: Operation, spec: Spec): string {
  const body = op.requestBody as
    | { required: boolean; description?: string; content: Record<string, { schema?: Schema }> }
    | undefined;
  const bodyHtml = body
    ? `<h4>Request body${body.required ? "" : " (optional)"}</h4>${body.description ? `<p>${escapeHtml(body.description)}</p>` : ""}${renderContent(body.content)}`
    : "";
  return `<section class="op" id="${escapeHtml(op.operationId)}">
<h3><span class="m ${method}">${method.toUpperCase()}</span> <code class="path">${escapeHtml(path)}</code></h3>
<p class="summary">${escapeHtml(op.summary ?? "")}</p>
<p class="meta"><span class="auth">Auth: ${escapeHtml(authLabel(op.security))}</span> · <span class="opid">${code(op.operationId)}</span></p>
${renderParameters(op)}${bodyHtml}${renderResponses(op, spec)}
</section>`;
}

const STYLE = `:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--muted:#666;--line:#ddd;--code:#f3f3f5;--link:#06c}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8ea;--bg:#16171a;--muted:#a0a0a8;--line:#34353a;--code:#24252a;--link:#6ab0ff}}
*{box-sizing:border-box}body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
a{color:var(--link)}code{font:13px/1.4 ui-monospace,monospace;background:var(--code);padding:0 .25em;border-radius:3px;word-break:break-word}
h1{font-size:1.6rem;margin:.5rem 0}h2{margin-top:2.5rem;border-bottom:2px solid var(--line);text-transform:capitalize}
h3{font-size:1rem;margin:0 0 .25rem;display:flex;flex-wrap:wrap;gap:.4rem;align-items:baseline}h4{margin:.8rem 0 .2rem;font-size:.9rem}
.op{border-top:1px solid var(--line);padding:1rem 0}.path{flex:1 1 12rem}.summary{margin:.2rem 0}.meta,.in,.media{color:var(--muted);font-size:.85rem}
.m{font:700 12px ui-monospace,monospace;padding:.1rem .4rem;border-radius:3px;color:#fff;background:#555}.get{background:#08794b}.post{background:#0a5fc2}.patch{background:#a05a00}.put{background:#7a3fc2}.delete{background:#b8262b}
ul{padding-left:1.2rem;margin:.2rem 0}.fields li,.errors li,.responses li{margin:.15rem 0}.type{color:var(--muted);font-size:.85rem}.req{color:#b8262b;font-size:.8rem}
nav ul{columns:2 12rem}`;

/** A self-contained reference page, grouped by tag (no CDN: the appliance must work offline). */
export function renderDocsPage(spec: Spec): string {
  const byTag = new Map<string, string[]>();
  for (const { name } of spec.tags) byTag.set(name, []);
  for (const [path, ops] of Object.entries(spec.paths))
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags?.[0] ?? "other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), renderOperation(method, path, op, spec)]);
    }
  const description = new Map(spec.tags.map((t) => [t.name, t.description]));
  const groups = [...byTag].filter(([, ops]) => ops.length > 0);
  const slug = (tag: string) => `tag-${tag.replace(/\W+/g, "-")}`;
  const nav = groups
    .map(([tag]) => `<li><a href="#${slug(tag)}">${escapeHtml(tag)}</a></li>`)
    .join("");
  const sections = groups
    .map(
      ([tag, ops]) =>
        `<h2 id="${slug(tag)}">${escapeHtml(tag)}</h2><p>${escapeHtml(description.get(tag) ?? "")}</p>${ops.join("\n")}`,
    )
    .join("\n");
  const errorList = Object.entries(
    spec.components.responses as Record<string, { description: string }>,
  )
    .map(([name, r]) => `<li>${code(name)} — ${escapeHtml(r.description)}</li>`)
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(spec.info.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style></head><body>
<h1>${escapeHtml(spec.info.title)} <small>${escapeHtml(spec.info.version)}</small></h1>
<p>${escapeHtml(spec.info.description ?? "")} Machine-readable description: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<nav><ul>${nav}<li><a href="#errors">errors</a></li></ul></nav>
${sections}
<h2 id="errors">errors</h2>
<p>Every error has one shape: ${code('{"error", "code", "details?": [{"field", "message"}], "request_id"}')}; ${code("details")} only on validation errors. 429 and 503 carry ${code("Retry-After")}.</p>
<ul>${errorList}</ul>
</body></html>`;
}
