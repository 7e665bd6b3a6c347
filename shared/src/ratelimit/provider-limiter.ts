import type { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import type { Logger } from '../obs/logger.ts';
import type { ProviderMetrics } from '../obs/provider-metrics.ts';
import { RedisCallLimiter } from './redis-call-limiter.ts';

/** A worker logs a Redis failure of the limiter at most this often. */
const ERROR_LOG_EVERY_MS = 10_000;

/**
 * The worker's provider limiter: limits from `TERN_PROVIDER_LIMITS`, shared through Redis, its
 * waits and cooldowns fed to the provider metrics and the log.
 */
export function providerLimiter(
  redis: Redis,
  config: Config,
  logger: Logger,
  metrics?: ProviderMetrics,
): RedisCallLimiter {
  let loggedAt = -Infinity;
  return new RedisCallLimiter(redis, {
    limits: config.TERN_PROVIDER_LIMITS,
    maxWaitMs: config.TERN_PROVIDER_MAX_WAIT_MS,
    hooks: {
      onWait: (provider, _model, ms) => metrics?.rateLimitWaited(provider, ms),
      onCooldown: (provider, ms, reason) => {
        metrics?.cooldownStarted(provider, ms, reason);
        logger.warn({ provider, ms, reason }, 'provider endpoint cooling down');
      },
      onError: (error) => {
        const now = Date.now();
        if (now - loggedAt < ERROR_LOG_EVERY_MS) return;
        loggedAt = now;
        logger.warn({ err: String(error) }, 'provider limits unavailable: calls go out unlimited');
      },
    },
  });
}
