import type { AppContext } from "../context.ts";
import { invalidWebhookUrl } from "../http/errors.ts";
import { isCleanText } from "../http/fields.ts";
import { checkWebhookUrl } from "./ssrfGuard.ts";

/** Applies webhooks.md §5 at configuration time; returns the normalised URL or 400 INVALID_WEBHOOK_URL. */
export async function acceptableWebhookUrl(ctx: AppContext, raw: string): Promise<string> {
  // The URL parser would silently drop tabs and newlines; a URL is text (http-api.md §1.1).
  if (!isCleanText(raw))
    throw invalidWebhookUrl("webhook URL must not contain control characters or lone surrogates");
  const check = await checkWebhookUrl(raw.trim(), {
    allowHttp: ctx.config.webhookAllowHttp,
    allowPrivate: ctx.config.webhookAllowPrivate,
    allowedCidrs: ctx.config.webhookAllowedCidrs,
    resolve: ctx.resolveHost,
  });
  if (!check.ok) throw invalidWebhookUrl(check.reason);
  return check.url.toString();
}
