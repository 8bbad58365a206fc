// The package's library surface: what receivers and agents can import without the server.

export * from "./signing/index.ts";
export type { ReceiverCheck } from "./webhooks/signature.ts";
export {
  seedSignature,
  standardWebhooksSignature,
  verifyWebhookSignature,
} from "./webhooks/signature.ts";
