import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadIdentity, sigilumHome, signRequest } from "../signing/index.ts";
import { UsageError } from "./args.ts";

export const SIGN_USAGE = `sigilum sign [options] <url>
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
  --dry-run                print the signed request instead of sending it`;

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
  dryRun: boolean;
}

const VALUE_FLAGS: Record<string, string> = {
  "-X": "method",
  "--request": "method",
  "-d": "data",
  "--data": "data",
  "-H": "header",
  "--header": "header",
  "--api-key": "apiKey",
  "--namespace": "namespace",
  "--home": "home",
  "--subject": "subject",
  "--agent-id": "agentId",
  "--claim-binding": "binding",
};

function readBody(data: string): string {
  return data.startsWith("@") ? readFileSync(data.slice(1), "utf8") : data;
}

function addHeader(headers: Record<string, string>, raw: string) {
  const colon = raw.indexOf(":");
  if (colon < 1) throw new UsageError(`bad header ${JSON.stringify(raw)}; use -H "Name: value"`);
  headers[raw.slice(0, colon).trim().toLowerCase()] = raw.slice(colon + 1).trim();
}

/** curl-like argument parsing (short flags, repeatable -H). */
export function parseSignArgs(argv: string[]): SignArgs {
  const values: Record<string, string> = {};
  const headers: Record<string, string> = {};
  const positionals: string[] = [];
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-i" || arg === "--include" || arg === "--dry-run") {
      switches.add(arg === "--dry-run" ? "dryRun" : "include");
      continue;
    }
    const name = VALUE_FLAGS[arg];
    if (!name) {
      if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}\n\n${SIGN_USAGE}`);
      positionals.push(arg);
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new UsageError(`${arg} needs a value`);
    if (name === "header") addHeader(headers, value);
    else values[name] = value;
  }
  if (positionals.length !== 1) throw new UsageError(`exactly one URL is needed\n\n${SIGN_USAGE}`);
  if (values.apiKey) headers.authorization = `Bearer ${values.apiKey}`;
  if (values.binding) headers["x-sigilum-claim-binding"] = values.binding;
  const body = values.data !== undefined ? readBody(values.data) : null;
  if (body !== null && !headers["content-type"]) headers["content-type"] = "application/json";
  return {
    url: positionals[0]!,
    method: (values.method ?? (body !== null ? "POST" : "GET")).toUpperCase(),
    body,
    headers,
    namespace: values.namespace,
    home: values.home ?? sigilumHome(),
    subject: values.subject,
    agentId: values.agentId,
    include: switches.has("include"),
    dryRun: switches.has("dryRun"),
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
  throw new UsageError(
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
  return { output: `${head}${text}`, ok: res.ok };
}
