import { createOwner } from "../auth/owners.ts";
import { systemClock } from "../clock.ts";
import type { Config } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { ApiError } from "../http/errors.ts";
import { UsageError } from "./args.ts";

/** The password comes from SIGILUM_OWNER_PASSWORD or the first line of stdin, never from argv. */
async function readPassword(): Promise<string> {
  const fromEnv = process.env.SIGILUM_OWNER_PASSWORD;
  if (fromEnv) return fromEnv;
  const text = await new Response(Bun.stdin.stream()).text();
  return text.split("\n")[0] ?? "";
}

/** `sigilum owner create <namespace> --email E`: how accounts are made when sign-up is closed. */
export async function createOwnerCommand(
  config: Config,
  namespace: string | undefined,
  email: string | undefined,
) {
  if (!namespace || !email)
    throw new UsageError("usage: sigilum owner create <namespace> --email <email>");
  const password = await readPassword();
  if (password.length < 10 || password.length > 256) {
    throw new UsageError(
      "the password (SIGILUM_OWNER_PASSWORD or stdin) must be 10–256 characters",
    );
  }
  const database = await openDatabase(config);
  try {
    await migrate(database);
    const owner = await createOwner(
      { database, clock: systemClock },
      { namespace, email, password },
    );
    return `created owner ${owner.namespace} (did:sigilum:${owner.namespace}, ${owner.email})`;
  } catch (err) {
    if (err instanceof ApiError) throw new Error(`${err.code}: ${err.message}`);
    throw err;
  } finally {
    database.close();
  }
}
