import { Redis } from 'ioredis';

/**
 * Connects and waits until Redis answers, failing with a readable message when nothing listens,
 * instead of retrying forever in the background.
 */
export async function connectRedis(url: string, name: string, timeoutMs = 3000): Promise<Redis> {
  const redis = new Redis(url, {
    connectionName: name,
    lazyConnect: true,
    // BullMQ requires this on connections it blocks on; harmless elsewhere.
    maxRetriesPerRequest: null,
    enableAutoPipelining: true,
  });
  // Silence the default "Unhandled error event" noise; callers see failures through commands.
  redis.on('error', () => {});
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    throw new RedisUnavailableError(`cannot reach Redis at ${redactUrl(url)}: ${reason}`);
  }
  return redis;
}

export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/** A Redis URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}
