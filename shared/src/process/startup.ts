import { ConfigError } from '../config/config.ts';
import { RedisUnavailableError } from '../redis/connect-redis.ts';

/**
 * Ends a process that could not start with one readable line and a non-zero exit. Expected
 * failures (bad config, Redis down) print no stack trace; anything else does, since it is a bug.
 */
export function exitOnStartupError(role: string) {
  return (error: unknown): never => {
    if (error instanceof ConfigError || error instanceof RedisUnavailableError) {
      process.stderr.write(`tern ${role}: ${error.message}\n`);
      if (error instanceof RedisUnavailableError) {
        process.stderr.write(
          'Start Redis (e.g. `redis-server`) or point REDIS_URL at a running one.\n',
        );
      }
    } else {
      process.stderr.write(`tern ${role}: failed to start: ${(error as Error)?.stack ?? error}\n`);
    }
    process.exit(1);
  };
}
