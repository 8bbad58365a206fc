import { existsSync } from "node:fs";
import {
  generateIdentity,
  identityFilePath,
  parseAgentKey,
  saveIdentity,
  sigilumHome,
  toDidKey,
} from "../signing/index.ts";
import { CliError, type Command, expectPositionals, stringValue, type Values } from "./args.ts";

const USAGE = `sigilum identity init <namespace> [--home DIR] [--json] [--force]
  Create an agent key pair and self-signed certificate in the Sigilum SDKs' format, at
  $SIGILUM_HOME/identities/<namespace>/identity.json (0600; default home ~/.sigilum).
  --json     print the facts as JSON
  --force    replace an existing identity (its key is lost)`;

/**
 * `sigilum identity init <namespace> [--home DIR] [--json] [--force]`: a new agent key pair and
 * self-signed certificate in the SDKs' identity-file format. Never prints the private key.
 */
export async function identityInit(namespace: string, values: Values): Promise<string> {
  const home = stringValue(values, "home") ?? sigilumHome();
  let path: string;
  try {
    path = identityFilePath(namespace.toLowerCase(), home);
  } catch {
    throw new CliError(
      `invalid namespace ${JSON.stringify(namespace)}: 3–64 characters of a–z, 0–9 and '-', not starting or ending with '-'`,
      2,
    );
  }
  if (existsSync(path) && values.force !== true) {
    throw new CliError(`${path} already exists; pass --force to replace it (the old key is lost)`);
  }
  const identity = await generateIdentity(namespace.toLowerCase(), Date.now());
  await saveIdentity(identity, { home });
  const facts = {
    namespace: identity.namespace,
    did: identity.did,
    key_id: identity.keyId,
    public_key: identity.publicKey,
    agent_key: toDidKey(parseAgentKey(identity.publicKey)!),
    path,
  };
  if (values.json === true) return JSON.stringify(facts, null, 2);
  return Object.entries(facts)
    .map(([k, v]) => `${k.padEnd(10)} ${v}`)
    .join("\n");
}

export const identityInitCommand: Command = {
  usage: USAGE,
  options: { home: { type: "string" }, json: { type: "boolean" }, force: { type: "boolean" } },
  async run({ values, positionals }) {
    const [namespace] = expectPositionals(positionals, ["<namespace>"]);
    console.log(await identityInit(namespace!, values));
  },
};
