import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadIdentity, sigilumHome, signRequest } from "../signing/index.ts";
import { CliError, type Command, type Parsed, stringValue, UsageError } from "./args.ts";

const USAGE = `sigilum sign [options] <url>
  Send a request signed as an agent (Sigilum RFC 9421 profile), curl-style.
  -X, --request METHOD     HTTP method (default GET, or POST with a body)
  -d, --data BODY          request body; @file reads it from a file
  -H, --header "N: v"      extra header (repeatable)
  --api-key KEY            adds Authorization: Bearer KEY (a service's sgl_sk_… key)
  --namespace NS           which identity to use (default: the only one in the home)
  --home DIR               identity home (default $SIGILUM_HOME or ~/.sigilum)
  --subject S              sigilum-subject (default: the namespace)
  --agent-id ID            sigilum-agent-id
  --claim-binding namespace-only   send X-Sigilum-Claim-Binding (gateway submissions)
  -i, --include            print the response status line and headers
  -w, --write-out FORMAT   print FORMAT after the body (%{http_code} and \\n are replaced)
  --dry-run                print the signed request instead of sending it
  URLs whose path has "." or ".." segments (also as %2e) are refused: servers resolve them
  before routing, so the request would reach a different resource.
  Exit code 0 for a 2xx answer, 1 otherwise, 2 for bad arguments.`;

export interface SignArgs {
  url: string;
  method: string;
  body: string | null;
  headers: Record<string, string>;
  namespace?: string;
  home: string;
  subject?: string;
  agentId?: string;
  include: boolean;
  writeOut?: string;
  dryRun: boolean;
}

function readBody(data: string): string {
  if (!data.startsWith("@")) return data;
  try {
    return readFileSync(data.slice(1), "utf8");
  } catch (err) {
    throw new CliError(`cannot read the body file: ${(err as Error).message}`);
  }
}

function addHeader(headers: Record<string, string>, raw: string) {
  const colon = raw.indexOf(":");
  if (colon < 1) throw new UsageError(`bad header ${JSON.stringify(raw)}; use -H "Name: value"`);
  headers[raw.slice(0, colon).trim().toLowerCase()] = raw.slice(colon + 1).trim();
}

/**
 * The first `.` or `..` path segment of a URL as written (also percent-encoded, also after a
 * backslash, which URL parsers treat as `/`), or null. Checked on the raw text because `new URL`
 * already resolves them — as Bun does on the server, where `…/keys/..` becomes the service.
 */
function dotSegment(url: string): string | null {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:[\\/]*[^\\/?#]*/i, "").split(/[?#]/, 1)[0]!;
  for (const segment of path.split(/[\\/]/)) {
    const decoded = segment.replace(/%2e/gi, ".");
    if (decoded === "." || decoded === "..") return segment;
  }
  return null;
}

function checkedUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not an absolute URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new UsageError(`the URL must use http or https: ${JSON.stringify(raw)}`);
  const segment = dotSegment(raw);
  if (segment !== null) {
    throw new CliError(
      `refusing ${JSON.stringify(raw)}: its path has a dot segment ${JSON.stringify(segment)}, which the server resolves before routing (so it would reach a different resource); check the ids in the URL`,
      2,
    );
  }
  return raw;
}

export function signArgs({ values, positionals }: Parsed): SignArgs {
  if (positionals.length !== 1) throw new UsageError("exactly one URL is needed");
  const url = checkedUrl(positionals[0]!);
  const headers: Record<string, string> = {};
  for (const raw of (values.header as string[] | undefined) ?? []) addHeader(headers, raw);
  const apiKey = stringValue(values, "api-key");
  const binding = stringValue(values, "claim-binding");
  if (apiKey) headers.authorization = `Bearer ${apiKey}`;
  if (binding) headers["x-sigilum-claim-binding"] = binding;
  const data = stringValue(values, "data");
  const body = data !== undefined ? readBody(data) : null;
  if (body !== null && !headers["content-type"]) headers["content-type"] = "application/json";
  return {
    url,
    method: (stringValue(values, "request") ?? (body !== null ? "POST" : "GET")).toUpperCase(),
    body,
    headers,
    namespace: stringValue(values, "namespace"),
    home: stringValue(values, "home") ?? sigilumHome(),
    subject: stringValue(values, "subject"),
    agentId: stringValue(values, "agent-id"),
    include: values.include === true,
    writeOut: stringValue(values, "write-out"),
    dryRun: values["dry-run"] === true,
  };
}

function onlyIdentity(home: string): string {
  let names: string[] = [];
  try {
    names = readdirSync(join(home, "identities"));
  } catch {
    // no identities yet
  }
  if (names.length === 1) return names[0]!;
  throw new CliError(
    names.length === 0
      ? `no identity in ${home}; create one with: sigilum identity init <namespace>`
      : `several identities in ${home} (${names.join(", ")}); choose one with --namespace`,
  );
}

/** Signs and sends; returns the text to print and whether the response was a success. */
export async function signAndSend(args: SignArgs): Promise<{ output: string; ok: boolean }> {
  const identity = await loadIdentity(args.namespace ?? onlyIdentity(args.home), {
    home: args.home,
  });
  const headers = await signRequest({
    method: args.method,
    url: args.url,
    headers: args.headers,
    body: args.body,
    identity,
    subject: args.subject,
    agentId: args.agentId,
  });
  if (args.dryRun) {
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
    return {
      output: [`${args.method} ${args.url}`, ...lines, "", args.body ?? ""].join("\n"),
      ok: true,
    };
  }
  const res = await fetch(args.url, {
    method: args.method,
    headers,
    body: args.body ?? undefined,
    redirect: "manual",
  });
  const text = await res.text();
  const head = args.include
    ? `HTTP ${res.status} ${res.statusText}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n`
    : "";
  const tail = (args.writeOut ?? "")
    .replaceAll("%{http_code}", String(res.status))
    .replaceAll("\\n", "\n");
  return { output: `${head}${text}${tail}`, ok: res.ok };
}

export const signCommand: Command = {
  usage: USAGE,
  options: {
    request: { type: "string", short: "X" },
    data: { type: "string", short: "d" },
    header: { type: "string", short: "H", multiple: true },
    "api-key": { type: "string" },
    namespace: { type: "string" },
    home: { type: "string" },
    subject: { type: "string" },
    "agent-id": { type: "string" },
    "claim-binding": { type: "string" },
    include: { type: "boolean", short: "i" },
    "write-out": { type: "string", short: "w" },
    "dry-run": { type: "boolean" },
  },
  async run(parsed) {
    const { output, ok } = await signAndSend(signArgs(parsed));
    // curl prints the body as it came; a trailing newline only when -w does not decide.
    process.stdout.write(
      output.endsWith("\n") || parsed.values["write-out"] ? output : `${output}\n`,
    );
    if (!ok) process.exitCode = 1;
  },
};
