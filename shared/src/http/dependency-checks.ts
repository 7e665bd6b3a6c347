import type { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import type { BlobStore } from '../session/blob-store.ts';
import { CachedProbe, type Check, type CheckResult, type Probe } from './readiness.ts';

export type ReadyConfig = Pick<Config, 'READY_PROBE_INTERVAL_MS' | 'READY_PROBE_TIMEOUT_MS'>;

/**
 * A PING, failing at once while the client is not connected: ioredis would otherwise hold the
 * command in its offline queue until Redis is back (Tern's connections never give up on a
 * command), and a probe a few seconds later would queue another.
 */
export function redisProbe(redis: Pick<Redis, 'status' | 'ping'>): Probe {
  return async () => {
    if (redis.status !== 'ready')
      throw Object.assign(new Error('not connected'), { code: redis.status });
    const answer = await redis.ping();
    if (answer !== 'PONG') throw new Error('unexpected PING answer');
  };
}

/** The store's own probe (one request, no retries); a listing under a prefix for stores without. */
export function blobStoreProbe(blobs: BlobStore): Probe {
  return async (signal) => {
    if (blobs.probe) await blobs.probe(signal);
    else await blobs.list('tern-readiness/');
  };
}

/**
 * The checks of a process that needs Redis and the blob store to do its work (the api, workers),
 * each probed at most once per READY_PROBE_INTERVAL_MS. `onChange` hears each state change, for
 * the process log.
 */
export function dependencyChecks(
  deps: { redis: Pick<Redis, 'status' | 'ping'>; blobs?: BlobStore | undefined },
  config: ReadyConfig,
  onChange?: (name: string, result: CheckResult) => void,
): Record<string, Check> {
  const cached = (name: string, probe: Probe) =>
    new CachedProbe(probe, {
      intervalMs: config.READY_PROBE_INTERVAL_MS,
      timeoutMs: config.READY_PROBE_TIMEOUT_MS,
      onChange: (result) => onChange?.(name, result),
    }).check;
  const checks: Record<string, Check> = { redis: cached('redis', redisProbe(deps.redis)) };
  if (deps.blobs) checks.store = cached('store', blobStoreProbe(deps.blobs));
  return checks;
}

/** Logs a readiness change: a dependency going down is a warning, coming back is news. */
export function logReadinessChange(logger: {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}) {
  const seen = new Set<string>();
  return (name: string, result: CheckResult) => {
    if (result.status === 'down')
      logger.warn({ check: name, ...result }, `not ready: ${name} is down`);
    // A check's first "up" is the normal start, not a recovery.
    else if (seen.has(name)) logger.info({ check: name }, `${name} is back`);
    seen.add(name);
  };
}
