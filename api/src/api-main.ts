import { loadConfig } from '@tern/shared/config/config';
import { redisReady } from '@tern/shared/http/ops-server';
import { createLogger } from '@tern/shared/obs/logger';
import { exitOnStartupError } from '@tern/shared/process/startup';
import { connectRedis } from '@tern/shared/redis/connect-redis';
import { openSessionStore } from '@tern/shared/session/open-session-store';
import { openTurnQueue } from '@tern/shared/session/requeue-turn';
import { createApp } from './http/create-app.ts';

export async function startApi() {
  const config = loadConfig();
  const logger = createLogger('api', config.LOG_LEVEL);
  const redis = await connectRedis(config.REDIS_URL, 'tern-api');
  const store = openSessionStore(redis, config, logger);
  const turns = openTurnQueue(config.REDIS_URL);
  turns.on('error', (error) => logger.error({ err: error.message }, 'queue error'));
  const app = createApp({
    config,
    store,
    turns,
    logger,
    ready: () => redisReady(() => redis.ping()),
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
    await turns.close();
    redis.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return { server, shutdown };
}

if (import.meta.main) startApi().catch(exitOnStartupError('api'));
