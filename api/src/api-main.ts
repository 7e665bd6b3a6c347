import { UserRateLimit } from '@tern/shared/auth/user-rate-limit';
import { UserStore } from '@tern/shared/auth/user-store';
import { BatchStore } from '@tern/shared/batch/batch-store';
import { loadConfig } from '@tern/shared/config/config';
import { dependencyChecks, logReadinessChange } from '@tern/shared/http/dependency-checks';
import { readiness } from '@tern/shared/http/readiness';
import { createHttpMetrics } from '@tern/shared/obs/http-metrics';
import { createLogger } from '@tern/shared/obs/logger';
import { createRegistry } from '@tern/shared/obs/metrics';
import { registerQueueMetrics } from '@tern/shared/obs/queue-metrics';
import { startTracing } from '@tern/shared/obs/tracing';
import { exitOnStartupError } from '@tern/shared/process/startup';
import { connectRedis } from '@tern/shared/redis/connect-redis';
import { openSessionStore } from '@tern/shared/session/open-session-store';
import { openTurnQueue } from '@tern/shared/session/requeue-turn';
import { FlowProducer } from 'bullmq';
import { createApp } from './http/create-app.ts';

export async function startApi() {
  const config = loadConfig();
  const logger = createLogger('api', config.LOG_LEVEL);
  const redis = await connectRedis(config.REDIS_URL, 'tern-api');
  const store = openSessionStore(redis, config, logger);
  const turns = openTurnQueue(config.REDIS_URL);
  turns.on('error', (error) => logger.error({ err: error.message }, 'queue error'));
  const flows = new FlowProducer({
    connection: { url: config.REDIS_URL, maxRetriesPerRequest: null },
  });
  flows.on('error', (error) => logger.error({ err: error.message }, 'batch flow producer error'));
  const registry = config.TERN_METRICS ? createRegistry() : undefined;
  if (registry) registerQueueMetrics(registry, [turns]);
  const tracing = await startTracing(config, 'tern-api', (message) =>
    logger.warn({ err: message }, 'trace export failed'),
  );
  const checks = dependencyChecks(
    { redis, blobs: store.blobs },
    config,
    logReadinessChange(logger),
  );
  const app = createApp({
    config,
    store,
    turns,
    batches: new BatchStore(redis, store.blobs),
    flows,
    logger,
    users: new UserStore(redis),
    rateLimit: new UserRateLimit(redis, {
      perSecond: config.API_RATE_LIMIT_PER_SEC,
      burst: config.API_RATE_LIMIT_BURST,
    }),
    ready: () => readiness(checks),
    tracing,
    metrics: registry && { registry, http: createHttpMetrics(registry) },
  });
  const server = app.listen(config.API_PORT, config.TERN_HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  logger.info({ url: `http://${config.TERN_HOST}:${config.API_PORT}` }, 'api listening');

  const shutdown = async () => {
    logger.info('api shutting down');
    server.close();
    await tracing.shutdown().catch(() => {});
    await turns.close();
    await flows.close();
    redis.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return { server, shutdown };
}

if (import.meta.main) startApi().catch(exitOnStartupError('api'));
