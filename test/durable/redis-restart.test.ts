import type { LogEntry } from '@tern/shared/session/log-entry';
import { redisKeys } from '@tern/shared/session/session-keys';
import { type Lease, SessionStore } from '@tern/shared/session/session-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { startS3, type TestS3 } from '../helpers/s3-server.ts';
import { commitOrThrow, turnCommits } from '../helpers/session-fixtures.ts';

let redis: TestRedis;
let s3: TestS3;

beforeAll(async () => {
  [redis, s3] = await Promise.all([startRedis(), startS3()]);
});

afterAll(async () => {
  await Promise.all([redis?.stop(), s3?.stop()]);
});

const s3Blobs = () => s3.openStore('restart');

describe('a Redis restart with AOF', () => {
  it('loses no committed step: commits go on across restarts and the log reads whole', async () => {
    const store = new SessionStore(redis.client, s3Blobs(), { snapshotEvery: 8 });
    const meta = await store.create({ model: 'openai:tern-sim' });
    const lease = (await store.acquireLease(meta.id, 'w', 120_000)) as Lease;
    const written: LogEntry[] = [];
    let lastSeq = 0;
    for (let turn = 1; turn <= 6; turn++) {
      const commits = turnCommits(turn, lastSeq + 1, lease.epoch);
      for (const [i, entries] of commits.entries()) {
        // Restart in the middle of a turn, with the lease held and the mirror possibly busy.
        if (turn % 2 === 0 && i === 2) await redis.restart();
        await commitOrThrow(store, lease, lastSeq, entries, i === 4 ? turn : undefined);
        lastSeq += entries.length;
        written.push(...entries);
      }
    }
    await store.mirror.settled();
    await redis.restart();

    const fresh = new SessionStore(redis.client, s3Blobs());
    expect(await fresh.entries(meta.id)).toEqual(written);
    expect(await fresh.meta(meta.id)).toMatchObject({ lastSeq: 30, doneInputSeq: 6 });
    // The lease and its epoch survived too: the holder can still commit, nobody else can.
    expect(await redis.client.get(redisKeys.lease(meta.id))).toBe(lease.token);
    expect(await fresh.acquireLease(meta.id, 'other', 10_000)).toBe('held');
  });

  it('treats a commit sent again after its reply was lost as committed, without doubling it', async () => {
    const store = new SessionStore(redis.client, s3Blobs());
    const meta = await store.create({ model: 'openai:tern-sim' });
    const lease = (await store.acquireLease(meta.id, 'w', 60_000)) as Lease;
    const [first, second] = turnCommits(1, 1, lease.epoch);
    expect(await store.commit(lease, 0, first!)).toBe('committed');
    // What the client does when Redis restarts between applying a script and answering it.
    expect(await store.commit(lease, 0, first!)).toBe('committed');
    expect(await redis.client.llen(redisKeys.segments(meta.id))).toBe(1);
    // A different step at a moved head is still a conflict.
    expect(await store.commit(lease, 0, second!)).toBe('conflict');
    expect(await new SessionStore(redis.client, s3Blobs()).entries(meta.id)).toEqual(first);
    await store.mirror.settled();
  });
});
