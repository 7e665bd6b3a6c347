import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import { writeFixtureTurns } from '../../../test/helpers/session-fixtures.ts';
import type { BlobStore, ListOptions } from './blob-store.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import { FileBlobStore } from './file-blob-store.ts';
import { blobKeys, redisKeys, segmentBlobKey } from './session-keys.ts';
import { decodeManifest } from './session-manifest.ts';
import { SessionStore, type SessionStoreOptions } from './session-store.ts';
import { coversFromStart, foldedItems, type PackRef, parsePacks } from './snapshot-packs.ts';

/** Counts reads, to tell a snapshot load from a full one. */
class CountingStore implements BlobStore {
  gets: string[] = [];
  readonly inner: FileBlobStore;
  constructor(inner: FileBlobStore) {
    this.inner = inner;
  }
  put(key: string, body: Uint8Array | string) {
    return this.inner.put(key, body);
  }
  get(key: string) {
    this.gets.push(key);
    return this.inner.get(key);
  }
  list(prefix: string, options?: ListOptions) {
    return this.inner.list(prefix, options);
  }
  deletePrefix(prefix: string) {
    return this.inner.deletePrefix(prefix);
  }
  describe() {
    return this.inner.describe();
  }
}

let redis: TestRedis;
let dir: string;
let files: FileBlobStore;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'tern-loader-'));
  files = new FileBlobStore(dir);
});

afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const storeWith = (options: SessionStoreOptions = {}) => {
  const blobs = new CountingStore(files);
  return { store: new SessionStore(redis.client, blobs, options), blobs };
};

/** A session of `turns` fixture turns (five segments each), its mirror settled. */
async function session(turns: number, snapshotEvery: number) {
  const { store } = storeWith({ snapshotEvery });
  const meta = await store.create({ model: 'openai:tern-sim' });
  const entries = await writeFixtureTurns(store, meta.id, turns);
  await store.mirror.settled();
  return { id: meta.id, entries };
}

async function packsOf(id: string): Promise<PackRef[]> {
  return parsePacks(await redis.client.hget(redisKeys.meta(id), 'packs')) ?? [];
}

describe('loading a session log', () => {
  it('reads the snapshot packs and the segments after them on a cold start, equal to the full log', async () => {
    const { id, entries } = await session(12, 8);
    const packs = await packsOf(id);
    // Packs are written in the background, so where they fall varies by a commit or two.
    expect(packs.length).toBeGreaterThan(0);
    expect(coversFromStart(packs)).toBe(true);
    const tail = 60 - foldedItems(packs);
    expect(tail).toBeLessThan(8);

    const cold = storeWith();
    expect(await cold.store.entries(id)).toEqual(entries);
    expect(cold.blobs.gets).toEqual(
      expect.arrayContaining(packs.map((p) => blobKeys.snapshot(id, p.first, p.last))),
    );
    expect(cold.blobs.gets).toHaveLength(packs.length + tail);

    const full = storeWith({ snapshotEvery: 0 });
    await redis.client.hdel(redisKeys.meta(id), 'packs', 'packedItems');
    expect(await full.store.entries(id)).toEqual(entries);
    expect(full.blobs.gets).toHaveLength(60);
  });

  it('keeps the manifest small: the packs plus the segments after them', async () => {
    const { id } = await session(12, 8);
    const bytes = await files.get(blobKeys.manifest(id));
    const manifest = decodeManifest(blobKeys.manifest(id), bytes!);
    const packs = await packsOf(id);
    expect(manifest).toMatchObject({ lastSeq: 60, inputSeq: 12, doneInputSeq: 12, packs });
    expect(manifest.segments).toEqual(
      await redis.client.lrange(redisKeys.segments(id), foldedItems(packs), -1),
    );
    // Packs that merges replaced are gone.
    expect(await files.list(blobKeys.snapshotsPrefix(id))).toEqual(
      packs.map((p) => blobKeys.snapshot(id, p.first, p.last)),
    );
  });

  it('falls back to the segments when a pack is corrupt, and says so', async () => {
    const { id, entries } = await session(8, 8);
    const [pack] = await packsOf(id);
    const key = blobKeys.snapshot(id, pack!.first, pack!.last);
    const bytes = Buffer.from((await files.get(key))!);
    const at = bytes.length - 100;
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    await writeFile(join(dir, key), bytes);
    const reported: Error[] = [];
    const cold = new SessionStore(redis.client, files, {
      onSnapshotUnusable: (error) => reported.push(error),
    });
    expect(await cold.entries(id)).toEqual(entries);
    expect(reported).toHaveLength(1);
    expect(CorruptBlobError.is(reported[0]) && reported[0].key).toBe(key);
  });

  it('reads the pack list again when a pack vanished under it (a merge replaced it)', async () => {
    const { id, entries } = await session(6, 8);
    const packs = await packsOf(id);
    const first = blobKeys.snapshot(id, packs[0]!.first, packs[0]!.last);
    // The first read of the pack misses, as if a merge had just deleted it.
    let missed = false;
    const store = new CountingStore(files);
    const get = store.get.bind(store);
    store.get = async (key: string) => {
      if (key === first && !missed) {
        missed = true;
        return undefined;
      }
      return get(key);
    };
    const reported: Error[] = [];
    const reader = new SessionStore(redis.client, store, {
      onSnapshotUnusable: (error) => reported.push(error),
    });
    expect(await reader.entries(id)).toEqual(entries);
    expect(missed).toBe(true);
    // Read again from the current list (the tail twice at most), not all 30 segments.
    expect(reported).toEqual([]);
    expect(store.gets.filter((k) => k.includes('/segments/')).length).toBeLessThan(16);
  });

  it('reports a corrupt or missing segment with the session and key, never a shorter log', async () => {
    const { id } = await session(3, 0);
    const items = await redis.client.lrange(redisKeys.segments(id), 0, -1);
    const key = segmentBlobKey(id, items[7]!);
    const original = (await files.get(key))!;
    const flipped = Buffer.from(original);
    flipped[40] = flipped[40] === 0x65 ? 0x66 : 0x65; // a letter of the first entry's JSON
    await writeFile(join(dir, key), flipped);
    const error = await new SessionStore(redis.client, files).entries(id).catch((e: unknown) => e);
    expect(CorruptBlobError.is(error) && [error.sessionId, error.key]).toEqual([id, key]);

    await rm(join(dir, key));
    const missing = await new SessionStore(redis.client, files)
      .entries(id)
      .catch((e: unknown) => e);
    expect(CorruptBlobError.is(missing) && missing.reason).toBe('missing');
    await writeFile(join(dir, key), original);
  });

  it('reads only new segments on a warm store, and never doubles entries', async () => {
    const { store } = storeWith({ snapshotEvery: 0 });
    const meta = await store.create({ model: 'openai:tern-sim' });
    const first = await writeFixtureTurns(store, meta.id, 2);
    const reader = storeWith();
    expect(await reader.store.entries(meta.id)).toEqual(first);
    const gets = reader.blobs.gets.length;
    const more = await writeFixtureTurns(store, meta.id, 1);
    const [a, b] = await Promise.all([
      reader.store.entries(meta.id),
      reader.store.entries(meta.id),
    ]);
    expect(a).toEqual([...first, ...more]);
    expect(b).toEqual([...first, ...more]);
    expect(reader.blobs.gets.length - gets).toBeLessThanOrEqual(10);
    expect(await store.entries(meta.id)).toEqual([...first, ...more]);
  });
});
