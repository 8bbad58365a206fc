import type { ClaimStreams, VerifyCache } from "./claims/index.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { SecretBox } from "./crypto.ts";
import type { Database } from "./db/client.ts";
import type { Erasure } from "./db/erasure.ts";
import type { Logger } from "./http/logger.ts";
import type { NonceStore } from "./http/nonceStore.ts";
import type { RateLimiter } from "./http/rateLimit.ts";
import type { Metrics } from "./metrics.ts";
import type { KeyCache, KeyUsage } from "./services/index.ts";
import type { DeliveryWorker } from "./webhooks/index.ts";

/** What every feature needs, built once by the app and passed down explicitly. */
export interface AppContext {
  config: Config;
  database: Database;
  clock: Clock;
  logger: Logger;
  limiter: RateLimiter;
  secretBox: SecretBox;
  keyUsage: KeyUsage;
  metrics: Metrics;
  keyCache: KeyCache;
  verifyCache: VerifyCache;
  signatureNonces: NonceStore;
  deliveryWorker: DeliveryWorker;
  /** Live-update streams (GET /v1/namespaces/{ns}/events); claim writes wake them. */
  claimStreams: ClaimStreams;
  /** Every feature's part in deleting services and accounts (src/db/erasure.ts). */
  erasures: readonly Erasure[];
  /** Host-name resolution for webhook URL checks (injectable so tests never touch real DNS). */
  resolveHost: (host: string) => Promise<string[]>;
}
