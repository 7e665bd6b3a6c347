import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobStore } from '@tern/shared/session/blob-store';
import { CorruptBlobError } from '@tern/shared/session/corrupt-blob-error';
import { FileBlobStore } from '@tern/shared/session/file-blob-store';
import { decodeSegment } from '@tern/shared/session/segment-codec';
import { blobKeys, redisKeys, segmentBlobKey } from '@tern/shared/session/session-keys';
import { SessionStore } from '@tern/shared/session/session-store';
import { parsePacks } from '@tern/shared/session/snapshot-packs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { startS3, type TestS3 } from '../helpers/s3-server.ts';
import { writeFixtureTurns } from '../helpers/session-fixtures.ts';

let redis: TestRedis;
let s3: TestS3;
let dir: string;

beforeAll(async () => {
  [redis, s3] = await Promise.all([startRedis(), startS3()]);
  dir = await mkdtemp(join(tmpdir(), 'tern-integrity-'));
});

afterAll(async () => {
  await Promise.all([redis?.stop(), s3?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const stores: [string, () => BlobStore][] = [
  ['the folder store', () => new FileBlobStore(join(dir, 'blobs'))],
  ['the S3 store', () => s3.openStore('integrity')],
];

describe.each(stores)('the session log in %s', (_name, open) => {
  async function session(turns: number) {
    const store = new SessionStore(redis.client, open(), { snapshotEvery: 8 });
    const meta = await store.create({ model: 'openai:tern-sim' });
    const entries = await writeFixtureTurns(store, meta.id, turns);
    await store.mirror.settled();
    return { id: meta.id, entries };
  }

  /** Every segment the head lists, decoded one by one: the log without snapshots or caches. */
  async function fullLog(blobs: BlobStore, id: string) {
    const items = await redis.client.lrange(redisKeys.segments(id), 0, -1);
    const parts = await Promise.all(
      items.map(async (item) => {
        const key = segmentBlobKey(id, item);
        return decodeSegment(key, (await blobs.get(key))!);
      }),
    );
    return parts.flat();
  }

  async function loadError(id: string) {
    return new SessionStore(redis.client, open()).entries(id).then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  it('loads a cold session from its snapshot exactly as from its full log', async () => {
    const { id, entries } = await session(10);
    expect(await redis.client.hget(redisKeys.meta(id), 'packs')).toBeTruthy();
    const cold = await new SessionStore(redis.client, open()).entries(id);
    expect(cold).toEqual(await fullLog(open(), id));
    expect(cold).toEqual(entries);
  });

  it('reports a flipped byte in a stored segment with the session and the key', async () => {
    const { id } = await session(3);
    const blobs = open();
    const items = await redis.client.lrange(redisKeys.segments(id), 0, -1);
    // After the packs, so a cold load must read it.
    const key = segmentBlobKey(id, items.at(-2)!);
    const bytes = Buffer.from((await blobs.get(key))!);
    const at = bytes.indexOf('worker');
    bytes[at] = 'W'.charCodeAt(0);
    await blobs.put(key, bytes);
    const error = await loadError(id);
    expect(CorruptBlobError.is(error)).toBe(true);
    expect(error).toMatchObject({ sessionId: id, key, reason: 'checksum', code: 'corrupt_blob' });
  });

  it('reports a truncated segment, even one cut at a line boundary', async () => {
    const { id } = await session(3);
    const blobs = open();
    const items = await redis.client.lrange(redisKeys.segments(id), 0, -1);
    const key = segmentBlobKey(id, items.at(-1)!);
    const text = Buffer.from((await blobs.get(key))!).toString('utf8');
    await blobs.put(key, `${text.split('\n')[0]}\n`);
    expect(await loadError(id)).toMatchObject({ sessionId: id, key, reason: 'truncated' });
    await blobs.put(key, text.slice(0, 100));
    expect(await loadError(id)).toMatchObject({ sessionId: id, key, reason: 'truncated' });
  });

  it('loads through a corrupt snapshot pack from the segments', async () => {
    const { id, entries } = await session(4);
    const blobs = open();
    const [pack] = parsePacks(await redis.client.hget(redisKeys.meta(id), 'packs')) ?? [];
    const key = blobKeys.snapshot(id, pack!.first, pack!.last);
    const bytes = Buffer.from((await blobs.get(key))!);
    await blobs.put(key, bytes.subarray(0, bytes.length - 10));
    const unusable: Error[] = [];
    const store = new SessionStore(redis.client, blobs, {
      onSnapshotUnusable: (error) => unusable.push(error),
    });
    expect(await store.entries(id)).toEqual(entries);
    expect(unusable.map((e) => CorruptBlobError.is(e) && e.key)).toEqual([key]);
  });
});
