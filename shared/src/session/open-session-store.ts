import type { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import type { Logger } from '../obs/logger.ts';
import { openBlobStore, type StoreConfig } from './open-blob-store.ts';
import { SessionStore, type SessionStoreOptions } from './session-store.ts';

/**
 * The `SessionStore` a Tern process uses: the blob store BLOB_STORE names, snapshot packs every
 * SESSION_SNAPSHOT_EVERY segments, and the recovery path's problems logged rather than thrown
 * (a failed manifest write or an unusable snapshot pack never fails a turn, but must be seen).
 */
export function openSessionStore(
  redis: Redis,
  config: StoreConfig & Pick<Config, 'SESSION_SNAPSHOT_EVERY'>,
  logger: Pick<Logger, 'warn'>,
  observe: Pick<SessionStoreOptions, 'onCommit'> = {},
): SessionStore {
  return new SessionStore(redis, openBlobStore(config), {
    ...observe,
    snapshotEvery: config.SESSION_SNAPSHOT_EVERY,
    onError: (error, sessionId) =>
      logger.warn(
        { sessionId, err: error.message },
        'session mirror failed; the next commit retries',
      ),
    onSnapshotUnusable: (error, sessionId) =>
      logger.warn({ sessionId, err: error.message }, 'snapshot pack unusable; read the segments'),
  });
}
