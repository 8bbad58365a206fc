import { existsSync } from "node:fs";
import {
  generateIdentity,
  identityFilePath,
  parseAgentKey,
  saveIdentity,
  sigilumHome,
  toDidKey,
} from "../signing/index.ts";
import { UsageError } from "./args.ts";

/**
 * `sigilum identity init <namespace> [--home DIR] [--json] [--force]`: a new agent key pair and
 * self-signed certificate in the SDKs' identity-file format. Never prints the private key.
 */
export async function identityInit(
  namespace: string | undefined,
  flags: Record<string, string>,
): Promise<string> {
  if (!namespace)
    throw new UsageError(
      "usage: sigilum identity init <namespace> [--home DIR] [--json] [--force]",
    );
  const home = flags["--home"] ?? sigilumHome();
  let path: string;
  try {
    path = identityFilePath(namespace.toLowerCase(), home);
  } catch {
    throw new UsageError(`invalid namespace: ${namespace}`);
  }
  if (existsSync(path) && !flags["--force"]) {
    throw new Error(`${path} already exists; pass --force to replace it (the old key is lost)`);
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
  if (flags["--json"]) return JSON.stringify(facts, null, 2);
  return Object.entries(facts)
    .map(([k, v]) => `${k.padEnd(10)} ${v}`)
    .join("\n");
}
