import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import { ToolProposalStore } from '../tools/tool-proposal-store.ts';
import { FileBlobStore } from './file-blob-store.ts';
import type { LogEntry } from './log-entry.ts';
import { deleteSession } from './session-delete.ts';
import { blobKeys, redisKeys } from './session-keys.ts';
import { type Lease, SessionStore } from './session-store.ts';
import { turn, writeTurns } from './session-test-log.ts';

let redis: TestRedis;
let dir: string;
let store: SessionStore;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'tern-delete-'));
  store = new SessionStore(redis.client, new FileBlobStore(dir));
});

afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const keysOf = async (id: string) => (await redis.client.keys(`*{${id}}*`)).sort();

/** A session with something under every key and blob prefix a session can have. */
async function busySession() {
  const meta = await store.create({ model: 'openai:tern-sim', files: { 'a/b.txt': 'bee' } });
  const id = meta.id;
  await writeTurns(store, id, [turn('one'), turn('two')]);
  await store.appendInput(id, 'queued', 'client-1');
  await store.steer(id, 'steer me');
  await store.requestCancel(id);
  await store.recordDecision(id, 'call-1', { decision: 'approve', by: 'me' });
  await redis.client.xadd(redisKeys.events(id), '*', 'e', '{}');
  await ToolProposalStore.of(store).propose(
    id,
    {
      name: 'word_count',
      description: 'Counts words',
      parameters: { type: 'object', properties: {} },
      runtime: 'python',
      code: 'print(1)',
      reason: 'handy',
    },
    1_000,
  );
  await store.mirror.settled();
  return id;
}

describe('deleteSession', () => {
  it('removes every Redis key, the index entry and every blob of the session', async () => {
    const id = await busySession();
    const other = await busySession();
    expect((await keysOf(id)).length).toBeGreaterThan(8);
    expect((await store.blobs.list(blobKeys.sessionPrefix(id))).length).toBeGreaterThan(3);

    expect(await deleteSession(store, id)).toEqual({ kind: 'deleted', inputSeq: 3 });
    expect(await keysOf(id)).toEqual([]);
    expect(await redis.client.zscore(redisKeys.sessionIndex, id)).toBeNull();
    expect(await store.blobs.list(blobKeys.sessionPrefix(id))).toEqual([]);
    expect(await store.meta(id)).toBeUndefined();
    expect(await deleteSession(store, id)).toEqual({ kind: 'not_found' });
    // Nothing of another session went with it.
    expect(await store.entries(other)).toHaveLength(4);
    expect(await redis.client.zscore(redisKeys.sessionIndex, other)).not.toBeNull();
  });

  it('refuses while a turn holds the lease, unless forced; forcing fences the turn', async () => {
    const meta = await store.create({ model: 'openai:tern-sim' });
    await store.appendInput(meta.id, 'hi', undefined);
    const lease = (await store.acquireLease(meta.id, 'w1', 60_000)) as Lease;
    expect(await deleteSession(store, meta.id)).toEqual({ kind: 'busy' });
    expect(await store.meta(meta.id)).toBeDefined();

    const cancels: string[] = [];
    const listener = redis.client.duplicate();
    await listener.subscribe(redisKeys.cancelChannel);
    listener.on('message', (_channel, message) => cancels.push(message));
    expect(await deleteSession(store, meta.id, { force: true })).toMatchObject({
      kind: 'deleted',
    });
    const late: LogEntry = {
      kind: 'user_message',
      text: 'late',
      inputSeq: 1,
      seq: 1,
      turnId: `${meta.id}-t1`,
      epoch: lease.epoch,
      at: 1,
    };
    expect(await store.commit(lease, 0, [late], 1)).toBe('fenced');
    expect(
      await store.publish(lease, [{ type: 'turn_started', turnId: 'x', inputSeq: 1 }], 100),
    ).toBeUndefined();
    await store.releaseLease(lease);
    expect(await store.renewLease(lease, 1_000)).toBe(false);
    // The fenced commit's writes never recreate the session in Redis.
    expect(await keysOf(meta.id)).toEqual([]);
    await expect.poll(() => cancels).toEqual([`${meta.id} ${meta.id}-t1`]);
    listener.disconnect();
  });

  it('does not wait for a worker that holds the lease with every input done', async () => {
    const meta = await store.create({ model: 'openai:tern-sim' });
    await writeTurns(store, meta.id, [turn('done')]);
    const lease = (await store.acquireLease(meta.id, 'w1', 60_000)) as Lease;
    expect(await deleteSession(store, meta.id)).toMatchObject({ kind: 'deleted' });
    await store.releaseLease(lease);
    expect(await keysOf(meta.id)).toEqual([]);
  });

  it('finishes an interrupted deletion when asked again', async () => {
    const id = await busySession();
    // As if the process died after the script: Redis state gone, tombstone and blobs left.
    await redis.client.eval(
      "redis.call('HSET', KEYS[2], 'parent', '') redis.call('DEL', KEYS[1]) return 1",
      2,
      redisKeys.meta(id),
      redisKeys.deleted(id),
    );
    expect(await deleteSession(store, id)).toEqual({ kind: 'not_found' });
    expect(await keysOf(id)).toEqual([]);
    expect(await store.blobs.list(blobKeys.sessionPrefix(id))).toEqual([]);
  });
});
