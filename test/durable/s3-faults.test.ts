import { TernError } from '@tern/shared/errors/tern-error';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { S3BlobStore } from '@tern/shared/session/s3-blob-store';
import { blobKeys, redisKeys } from '@tern/shared/session/session-keys';
import { type Lease, SessionStore } from '@tern/shared/session/session-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.ts';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { startS3, type TestS3 } from '../helpers/s3-server.ts';
import { commitOrThrow, turnCommits, writeFixtureTurns } from '../helpers/session-fixtures.ts';

let redis: TestRedis;
let s3: TestS3;
let proxy: FaultProxy;

beforeAll(async () => {
  [redis, s3] = await Promise.all([startRedis(), startS3()]);
  proxy = await startFaultProxy(s3.port);
});

afterAll(async () => {
  await proxy?.close();
  await Promise.all([redis?.stop(), s3?.stop()]);
});

/** An S3 store (through the fault proxy) that tells when it starts retrying. */
function s3Store(budgetMs: number) {
  let retried: () => void = () => {};
  const firstRetry = new Promise<void>((resolve) => {
    retried = resolve;
  });
  const retries: unknown[] = [];
  const blobs = new S3BlobStore({
    ...s3.storeOptions(),
    endpoint: proxy.url,
    retry: { baseDelayMs: 50, maxDelayMs: 400, budgetMs },
    requestTimeoutMs: 2_000,
    onRetry: (error) => {
      retries.push(error);
      retried();
    },
  });
  return { blobs, firstRetry, retries };
}

async function leased(store: SessionStore) {
  const meta = await store.create({ model: 'openai:tern-sim' });
  const lease = (await store.acquireLease(meta.id, 'test-worker', 60_000)) as Lease;
  return { id: meta.id, lease };
}

describe('the session log on S3 under store faults', () => {
  it('holds commits while S3 is down and completes them once it is back', async () => {
    const { blobs, firstRetry } = s3Store(30_000);
    const store = new SessionStore(redis.client, blobs, { snapshotEvery: 8 });
    const { id, lease } = await leased(store);
    const written: LogEntry[] = [];
    let lastSeq = 0;
    const commitTurn = async (turn: number) => {
      for (const entries of turnCommits(turn, lastSeq + 1, lease.epoch)) {
        await commitOrThrow(store, lease, lastSeq, entries);
        lastSeq += entries.length;
        written.push(...entries);
      }
    };
    await commitTurn(1);
    await commitTurn(2);

    await s3.kill();
    const during = commitTurn(3);
    await firstRetry;
    // The head has not moved past what S3 acknowledged.
    expect(Number(await redis.client.hget(redisKeys.meta(id), 'lastSeq'))).toBe(10);
    await s3.start();
    await during;
    await commitTurn(4);
    await store.mirror.settled();

    expect(await store.entries(id)).toEqual(written);
    const cold = new SessionStore(redis.client, s3Store(10_000).blobs);
    expect(await cold.entries(id)).toEqual(written);
    expect(await blobs.get(blobKeys.manifest(id))).toBeDefined();
  });

  it('fails a commit clearly once the retry budget is spent, leaving nothing half-written', async () => {
    const { blobs } = s3Store(1_000);
    const store = new SessionStore(redis.client, blobs);
    const { id, lease } = await leased(store);
    const [first, second] = turnCommits(1, 1, lease.epoch);
    await commitOrThrow(store, lease, 0, first!);
    const segmentsBefore = await blobs.list(blobKeys.segmentsPrefix(id));

    await s3.kill();
    const failure = await store.commit(lease, 1, second!).catch((e: unknown) => e);
    expect(TernError.isInstance(failure) && failure.code).toBe('blob_store_unavailable');
    expect(TernError.isInstance(failure) && failure.retryable).toBe(true);
    expect((failure as Error).message).toContain(`sessions/${id}/segments/`);
    await s3.start();

    // The head and the store are as before the failed commit.
    expect(await redis.client.hget(redisKeys.meta(id), 'lastSeq')).toBe('1');
    expect(await redis.client.llen(redisKeys.segments(id))).toBe(1);
    expect(await blobs.list(blobKeys.segmentsPrefix(id))).toEqual(segmentsBefore);
    expect(await new SessionStore(redis.client, blobs).entries(id)).toEqual(first);
    // The worker's retry of the same step goes through.
    expect(await store.commit(lease, 1, second!)).toBe('committed');
    expect(await new SessionStore(redis.client, blobs).entries(id)).toEqual([
      ...first!,
      ...second!,
    ]);
  });

  it('retries S3 503 SlowDown and 500 InternalError answers until they pass', async () => {
    const { blobs, retries } = s3Store(20_000);
    const store = new SessionStore(redis.client, blobs);
    const meta = await store.create({ model: 'openai:tern-sim' });
    proxy.failNext(4, 'slowdown');
    const faultedBefore = proxy.faulted;
    const written = await writeFixtureTurns(store, meta.id, 2);
    expect(proxy.faulted - faultedBefore).toBe(4);
    expect(retries.some((e) => (e as { name?: string }).name === 'SlowDown')).toBe(true);

    proxy.failNext(3, 'internal');
    const cold = new SessionStore(redis.client, blobs);
    expect(await cold.entries(meta.id)).toEqual(written);
    expect(retries.some((e) => (e as { name?: string }).name === 'InternalError')).toBe(true);
    await store.mirror.settled();
  });
});
