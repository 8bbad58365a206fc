import { readFileSync } from "node:fs";
import { verifyWebhookSignature } from "../webhooks/signature.ts";
import { UsageError } from "./args.ts";

export const WEBHOOK_VERIFY_USAGE = `sigilum webhook verify --secret S --header H --body-file F [--tolerance SECONDS]
  Check an X-Sigilum-Signature header the way a receiver would (secret also from SIGILUM_WEBHOOK_SECRET).`;

/** Exit code 0 when the signature verifies, 1 when it does not. */
export function webhookVerify(flags: Record<string, string>): { ok: boolean; message: string } {
  const secret = flags["--secret"] ?? process.env.SIGILUM_WEBHOOK_SECRET;
  const header = flags["--header"];
  const file = flags["--body-file"];
  if (!secret || !header || !file) throw new UsageError(WEBHOOK_VERIFY_USAGE);
  const tolerance = flags["--tolerance"] ? Number(flags["--tolerance"]) : 300;
  if (!Number.isInteger(tolerance) || tolerance < 0)
    throw new UsageError("--tolerance must be a whole number of seconds");
  const check = verifyWebhookSignature({
    secret,
    header: header.replace(/^x-sigilum-signature:\s*/i, ""),
    body: readFileSync(file, "utf8"),
    toleranceSeconds: tolerance,
  });
  return check.ok
    ? { ok: true, message: `valid (t=${check.timestamp})` }
    : { ok: false, message: `invalid: ${check.reason}` };
}
