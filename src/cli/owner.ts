import { eq } from "drizzle-orm";
import { createOwner, hashPassword } from "../auth/index.ts";
import { systemClock } from "../clock.ts";
import type { Config } from "../config.ts";
import { countRows, writeBatch } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import { owners, sessions } from "../db/schema.ts";
import { ApiError } from "../http/errors.ts";
import { didFor } from "../signing/index.ts";
import { CliError, type Command, UsageError, type Values } from "./args.ts";
import { configFrom, openExistingDatabase, STORAGE_OPTIONS, storageFlags } from "./database.ts";
import { readHidden, readStdinLine } from "./prompt.ts";

const PASSWORD_RULE = "10–256 characters";

const PASSWORD_SOURCES = `The password is never taken from the command line: on a terminal it is prompted for
  (twice, not echoed); otherwise it is the first line of stdin (--password-stdin says so
  explicitly), or SIGILUM_OWNER_PASSWORD.`;

export const OWNER_USAGE = `sigilum owner create <namespace> --email <email> [--password-stdin]
sigilum owner reset-password <namespace|email> [--password-stdin]
  Manage owner accounts directly in the database (the way in when SIGILUM_SIGNUP=closed).`;

const CREATE_USAGE = `sigilum owner create <namespace> --email <email> [--password-stdin] [--data-dir D]
  Create an owner account in an existing database (start the server or run
  \`sigilum migrate\` once first). ${PASSWORD_SOURCES}`;

const RESET_USAGE = `sigilum owner reset-password <namespace|email> [--password-stdin] [--data-dir D]
  Set a new password and end all of the owner's sessions (personal access tokens stay valid).
  ${PASSWORD_SOURCES}`;

/** From stdin when asked or when it is not a terminal; else SIGILUM_OWNER_PASSWORD; else a prompt. */
async function readPassword(values: Values): Promise<string> {
  const fromEnv = process.env.SIGILUM_OWNER_PASSWORD;
  let password: string;
  if (values["password-stdin"] === true) password = await readStdinLine();
  else if (fromEnv) password = fromEnv;
  else if (!process.stdin.isTTY) password = await readStdinLine();
  else {
    password = await readHidden("Password: ");
    if ((await readHidden("Repeat password: ")) !== password)
      throw new CliError("passwords do not match", 2);
  }
  if (password.length < 10 || password.length > 256)
    throw new CliError(`the password must be ${PASSWORD_RULE}`, 2);
  return password;
}

async function createOwnerCommand(
  config: Config,
  namespace: string,
  email: string,
  values: Values,
) {
  const database = await openExistingDatabase(config);
  try {
    const password = await readPassword(values);
    await migrate(database);
    const owner = await createOwner(
      { database, clock: systemClock },
      { namespace, email, password },
    );
    return `created owner ${owner.namespace} (${didFor(owner.namespace)}, ${owner.email})`;
  } catch (err) {
    if (err instanceof ApiError) throw new CliError(`${err.code}: ${err.message}`);
    throw err;
  } finally {
    database.close();
  }
}

async function resetPasswordCommand(config: Config, login: string, values: Values) {
  const database = await openExistingDatabase(config);
  try {
    const key = login.trim().toLowerCase();
    const [owner] = await database.db
      .select()
      .from(owners)
      .where(key.includes("@") ? eq(owners.emailNormalized, key) : eq(owners.namespace, key))
      .limit(1);
    if (!owner) throw new CliError(`no owner with namespace or email ${JSON.stringify(login)}`);
    const hash = await hashPassword(await readPassword(values));
    const ended = await countRows(database, sessions, eq(sessions.ownerId, owner.id));
    await writeBatch(database, [
      database.db
        .update(owners)
        .set({ passwordHash: hash, updatedAt: systemClock.now() })
        .where(eq(owners.id, owner.id)),
      database.db.delete(sessions).where(eq(sessions.ownerId, owner.id)),
    ]);
    return `password reset for ${owner.namespace}; ${ended} session${ended === 1 ? "" : "s"} ended`;
  } finally {
    database.close();
  }
}

const COMMON_OPTIONS = { "password-stdin": { type: "boolean" }, ...STORAGE_OPTIONS } as const;

export const ownerCommands: Record<string, Command> = {
  create: {
    usage: CREATE_USAGE,
    options: { ...COMMON_OPTIONS, email: { type: "string" } },
    async run({ values, positionals }) {
      const [namespace, ...extra] = positionals;
      const email = values.email;
      if (!namespace || typeof email !== "string" || extra.length > 0)
        throw new UsageError("owner create needs <namespace> and --email <email>");
      const config = configFrom(storageFlags(values));
      console.log(await createOwnerCommand(config, namespace, email, values));
    },
  },
  "reset-password": {
    usage: RESET_USAGE,
    options: COMMON_OPTIONS,
    async run({ values, positionals }) {
      if (positionals.length !== 1)
        throw new UsageError("owner reset-password needs one <namespace|email>");
      const config = configFrom(storageFlags(values));
      console.log(await resetPasswordCommand(config, positionals[0]!, values));
    },
  },
};
