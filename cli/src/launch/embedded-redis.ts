import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { type Child, spawnChild } from './child-process.ts';

async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

const isLocal = (url: URL) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname);

export type RedisPlan = { url: string; child?: Child; note?: string };

/**
 * Uses the Redis at `url` when it answers. Otherwise, for a local URL with `redis-server` on the
 * PATH, starts a private one under `<dataDir>/redis` (append-only, so a restart keeps sessions).
 */
export async function ensureRedis(
  url: string,
  dataDir: string,
  logDir: string,
): Promise<RedisPlan> {
  if (await answers(url)) return { url };
  const parsed = new URL(url);
  const hasServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!isLocal(parsed) || !hasServer) {
    throw new Error(
      `no Redis answers at ${parsed.host}` +
        (hasServer ? '' : ' and redis-server is not installed (apt-get install redis-server)'),
    );
  }
  const dir = resolve(join(dataDir, 'redis'));
  mkdirSync(dir, { recursive: true });
  const port = parsed.port || '6379';
  const child = spawnChild(
    'redis',
    'redis-server',
    ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
    { env: process.env, logDir },
  );
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await answers(url)) {
      return { url, child, note: `started a private redis-server on port ${port} under ${dir}` };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.process.kill('SIGKILL');
  throw new Error(`the private redis-server did not start; see ${join(logDir, 'redis.log')}`);
}
