import { readFileSync } from "node:fs";
import { verifyWebhookSignature } from "../webhooks/index.ts";
import {
  CliError,
  type Command,
  expectPositionals,
  stringValue,
  UsageError,
  type Values,
} from "./args.ts";

const USAGE = `sigilum webhook verify --secret S --header H --body-file F [--tolerance SECONDS]
  Check an X-Sigilum-Signature header the way a receiver would (secret also from
  SIGILUM_WEBHOOK_SECRET). Exit code 0 when it verifies, 1 when it does not.`;

function readBodyFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new CliError(`cannot read --body-file: ${(err as Error).message}`);
  }
}

/** Exit code 0 when the signature verifies, 1 when it does not. */
export function webhookVerify(values: Values): { ok: boolean; message: string } {
  const secret = stringValue(values, "secret") ?? process.env.SIGILUM_WEBHOOK_SECRET;
  const header = stringValue(values, "header");
  const file = stringValue(values, "body-file");
  if (!secret || !header || !file)
    throw new UsageError(
      "--secret (or SIGILUM_WEBHOOK_SECRET), --header and --body-file are needed",
    );
  const toleranceText = stringValue(values, "tolerance");
  const tolerance = toleranceText !== undefined ? Number(toleranceText) : 300;
  if (!Number.isInteger(tolerance) || tolerance < 0)
    throw new UsageError("--tolerance must be a whole number of seconds");
  const check = verifyWebhookSignature({
    secret,
    header: header.replace(/^x-sigilum-signature:\s*/i, ""),
    body: readBodyFile(file),
    toleranceSeconds: tolerance,
  });
  return check.ok
    ? { ok: true, message: `valid (t=${check.timestamp})` }
    : { ok: false, message: `invalid: ${check.reason}` };
}

export const webhookVerifyCommand: Command = {
  usage: USAGE,
  options: {
    secret: { type: "string" },
    header: { type: "string" },
    "body-file": { type: "string" },
    tolerance: { type: "string" },
  },
  run({ values, positionals }) {
    expectPositionals(positionals, []);
    const { ok, message } = webhookVerify(values);
    console.log(message);
    if (!ok) process.exitCode = 1;
  },
};
