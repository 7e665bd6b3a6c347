import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import type { BlobStore } from './blob-store.ts';
import { FileBlobStore } from './file-blob-store.ts';
import { deleteSession } from './session-delete.ts';
import { blobKeys } from './session-keys.ts';
import { SessionStore } from './session-store.ts';
import { turn, writeTurns } from './session-test-log.ts';

let redis: TestRedis;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'tern-delete-race-'));
});
afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A folder store whose manifest writes wait until the test lets them land. */
function heldManifests(inner: BlobStore) {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held = 0;
  const store: BlobStore = {
    async put(key, body) {
      if (key.endsWith('/manifest.json')) {
        held++;
        await gate;
      }
      return inner.put(key, body);
    },
    get: (key) => inner.get(key),
    list: (prefix, options) => inner.list(prefix, options),
    deletePrefix: (prefix) => inner.deletePrefix(prefix),
    describe: () => inner.describe(),
  };
  return { store, release, held: () => held };
}

describe('a manifest write racing a deletion', () => {
  it('leaves no blob of the deleted session behind', async () => {
    const files = new FileBlobStore(dir);
    const held = heldManifests(files);
    const store = new SessionStore(redis.client, held.store);
    const meta = await store.create({ model: 'openai:tern-sim' });
    const writing = writeTurns(store, meta.id, [turn('one')]);
    await expect.poll(held.held).toBeGreaterThan(0);
    const deleted = deleteSession(store, meta.id);
    // The deletion cannot finish before the held write lands (the mirror is settled first) or it
    // can; either way, once both are done nothing of the session may remain.
    await new Promise((r) => setTimeout(r, 200));
    held.release();
    await Promise.all([writing, deleted]);
    await store.mirror.settled();
    expect(await files.list(blobKeys.manifest(meta.id))).toEqual([]);
    expect(await files.list(`sessions/${meta.id}/`)).toEqual([]);
  });
});
