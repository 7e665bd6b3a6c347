import { createServer } from 'node:http';
import { UserStore } from '@tern/shared/auth/user-store';
import { loadConfig } from '@tern/shared/config/config';
import { dependencyChecks, logReadinessChange } from '@tern/shared/http/dependency-checks';
import { writeReadiness } from '@tern/shared/http/ops-server';
import { readiness } from '@tern/shared/http/readiness';
import { createGatewayMetrics } from '@tern/shared/obs/gateway-metrics';
import { createLogger } from '@tern/shared/obs/logger';
import { createRegistry, writeMetrics } from '@tern/shared/obs/metrics';
import { exitOnStartupError } from '@tern/shared/process/startup';
import { connectRedis } from '@tern/shared/redis/connect-redis';
import { openSessionStore } from '@tern/shared/session/open-session-store';
import { startGateway } from './gateway/gateway-server.ts';

export async function startGatewayProcess() {
  const config = loadConfig();
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const redis = await connectRedis(config.REDIS_URL, 'tern-gateway');
  const reader = await connectRedis(config.REDIS_URL, 'tern-gateway-reader');
  const store = openSessionStore(redis, config, logger);
  const registry = config.TERN_METRICS ? createRegistry() : undefined;
  const metrics =
    registry &&
    createGatewayMetrics(registry, {
      clients: () => gateway.io.engine.clientsCount,
      watchedSessions: () => gateway.relay.watched(),
    });

  // The gateway relays from Redis only (catch-up included): the blob store is not its dependency.
  const checks = dependencyChecks({ redis }, config, logReadinessChange(logger));
  const httpServer = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (path === '/readyz') {
      void readiness(checks).then((report) => writeReadiness(res, report));
    } else if (path === '/metrics' && registry) {
      void writeMetrics(registry, res);
    } else if (!path?.startsWith('/socket.io')) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":{"code":"route_not_found","message":"the gateway serves socket.io only"}}');
    }
  });
  const gateway = await startGateway(httpServer, {
    store,
    reader,
    users: new UserStore(redis),
    logger,
    backpressure: {
      maxPackets: config.GATEWAY_CLIENT_MAX_PACKETS,
      maxBytes: config.GATEWAY_CLIENT_MAX_BYTES,
      pageSize: config.GATEWAY_CATCH_UP_PAGE,
    },
    ...(metrics ? { onRelayed: metrics.relayed, onSlowClient: metrics.slowClient } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.GATEWAY_PORT, config.TERN_HOST, resolve);
  });
  logger.info({ url: `http://${config.TERN_HOST}:${config.GATEWAY_PORT}` }, 'gateway listening');

  const shutdown = async () => {
    logger.info('gateway shutting down');
    await gateway.close();
    redis.disconnect();
    reader.disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  return { gateway, shutdown };
}

if (import.meta.main) startGatewayProcess().catch(exitOnStartupError('gateway'));
