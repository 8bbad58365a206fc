import { Elysia } from "elysia";
import { authFeature } from "./auth/index.ts";
import { ChangeLogFollower } from "./changeLog.ts";
import { ClaimStreams, claimsErasure, claimsFeature, VerifyCache } from "./claims/index.ts";
import type { Clock } from "./clock.ts";
import { systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { AppContext } from "./context.ts";
import { DASHBOARD_ROUTE, dashboardFeature } from "./dashboard/index.ts";
import { migrate } from "./db/migrate.ts";
import { openStorage } from "./db/storage.ts";
import { didFeature } from "./did/index.ts";
import { docsFeature } from "./docs/index.ts";
import { healthFeature } from "./health/index.ts";
import { httpConventions, type RouteTable } from "./http/conventions.ts";
import { listenNotices } from "./http/listen.ts";
import { listenError } from "./http/listenError.ts";
import { createLogger, type Logger, stderrLines } from "./http/logger.ts";
import { NonceStore } from "./http/nonceStore.ts";
import { RateLimiter } from "./http/rateLimit.ts";
import { type HttpServer, serveHttp } from "./http/server.ts";
import { startJobs } from "./jobs.ts";
import { Metrics } from "./metrics.ts";
import { openSecretBox } from "./secretKey.ts";
import { KeyCache, KeyUsage, servicesErasure, servicesFeature } from "./services/index.ts";
import { usageErasure, usageFeature } from "./usage/index.ts";
import {
  DeliveryWorker,
  defaultResolve,
  webhooksErasure,
  webhooksFeature,
} from "./webhooks/index.ts";

export interface AppOptions {
  clock?: Clock;
  logger?: Logger;
  resolveHost?: (host: string) => Promise<string[]>;
  /** Jitter source for retry delays (tests make it deterministic). */
  random?: () => number;
}

/** Builds the Elysia app from the feature plugins. */
export function buildApp(ctx: AppContext) {
  const routeTable: RouteTable = { routes: [] };
  // The router finds the path after "http://", not at a fixed offset into the Host (server.ts).
  const app = new Elysia({ normalize: false, handler: { standardHostname: false } })
    .use(httpConventions({ maxBodyBytes: ctx.config.maxBodyBytes, logger: ctx.logger, routeTable }))
    .use(healthFeature(ctx))
    .use(authFeature(ctx))
    .use(servicesFeature(ctx))
    .use(webhooksFeature(ctx))
    .use(claimsFeature(ctx))
    .use(usageFeature(ctx))
    .use(didFeature(ctx));
  // The dashboard's catch-all GET comes last: every concrete route above wins over it.
  const withDocs = app
    .use(docsFeature(app, ctx.config.publicUrl))
    .use(dashboardFeature(ctx.config));
  // It reaches every path, so it must not make a path "known" for 405 answers (allowedMethods).
  routeTable.routes = withDocs.routes.filter((r) => r.path !== DASHBOARD_ROUTE);
  return withDocs;
}

export interface RunningServer extends HttpServer {
  ctx: AppContext;
  close(): Promise<void>;
}

/** Opens storage, applies migrations, and serves HTTP. `close()` stops everything in order. */
export async function startServer(
  config: Config,
  options: AppOptions = {},
): Promise<RunningServer> {
  const metrics = new Metrics();
  const logger =
    options.logger ??
    createLogger(
      config.logLevel,
      config.logFormat,
      stderrLines(() => metrics.logLinesDropped.inc()),
    );
  const clock = options.clock ?? systemClock;
  const database = await openStorage(config, { create: true, warn: logger.warn });
  let secretBox: AppContext["secretBox"];
  try {
    const applied = await migrate(database);
    if (applied.length > 0) logger.info("migrations applied", { migrations: applied });
    secretBox = await openSecretBox(config, database);
  } catch (err) {
    database.close();
    throw err;
  }
  const ctx: AppContext = {
    config,
    database,
    clock,
    logger,
    limiter: new RateLimiter(clock),
    secretBox,
    keyUsage: new KeyUsage(clock),
    metrics,
    keyCache: new KeyCache(clock, config.cacheTtl),
    verifyCache: new VerifyCache(clock, config.cacheTtl),
    signatureNonces: new NonceStore(database, clock, config.signatureNonceTtl),
    resolveHost: options.resolveHost ?? defaultResolve,
    // Each feature deletes its own rows when services or accounts go (src/db/erasure.ts); auth,
    // which every feature depends on, adds its own rows and the owner last (deleteAccount).
    erasures: [webhooksErasure, claimsErasure, usageErasure, servicesErasure],
    deliveryWorker: new DeliveryWorker(() => ctx, options.random),
    claimStreams: new ClaimStreams(() => ctx),
  };
  let http: HttpServer;
  try {
    http = serveHttp(buildApp(ctx) as unknown as Elysia, {
      host: config.host,
      port: config.port,
      trustProxy: config.trustProxy,
      logger,
      metrics: ctx.metrics,
    });
  } catch (err) {
    database.close();
    throw listenError(err, config);
  }
  const changeLog = new ChangeLogFollower(ctx);
  await changeLog.start();
  const jobs = startJobs(ctx);
  ctx.deliveryWorker.start();
  const where = listenNotices(config, http.bound);
  logger.info("listening", {
    address: where.address,
    url: where.url,
    database: config.embedded ? "embedded" : "remote",
  });
  for (const warning of where.warnings) logger.warn(warning);
  return {
    ...http,
    ctx,
    /** Graceful: stop accepting requests, let in-flight deliveries finish, flush, close storage. */
    async close() {
      // Open event streams never finish by themselves; a graceful stop would wait on them.
      ctx.claimStreams.closeAll();
      await http.stop();
      changeLog.stop();
      await ctx.deliveryWorker.stop();
      await jobs.stop();
      database.close();
    },
  };
}
