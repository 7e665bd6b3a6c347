import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import { FileBlobStore } from './file-blob-store.ts';
import { deleteSession, STALE_FORK_MS } from './session-delete.ts';
import { forkSession } from './session-fork.ts';
import { blobKeys, redisKeys } from './session-keys.ts';
import { SessionStore } from './session-store.ts';
import { turn, writeTurns } from './session-test-log.ts';
import { WorkspaceObjects } from './workspace-store.ts';

let redis: TestRedis;
let dir: string;
let store: SessionStore;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'tern-fork-'));
  store = new SessionStore(redis.client, new FileBlobStore(dir));
});

afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A session of three two-entry turns, committed `stepsPerSegment` entries at a time. */
async function source(stepsPerSegment = 1) {
  const meta = await store.create({ model: 'openai:tern-sim', files: { 'src/a.txt': 'alpha' } });
  const entries = await writeTurns(
    store,
    meta.id,
    [turn('one'), turn('two'), turn('three')],
    stepsPerSegment,
  );
  return { id: meta.id, entries };
}

async function fork(id: string, atSeq?: number) {
  const result = await forkSession(store, id, { atSeq });
  if (result.kind !== 'forked') throw new Error(`fork failed: ${result.kind}`);
  return result.meta;
}

const keysOf = async (id: string) => (await redis.client.keys(`*{${id}}*`)).sort();
const blobsOf = (id: string) => store.blobs.list(blobKeys.sessionPrefix(id));
const segmentItems = (id: string) => redis.client.lrange(redisKeys.segments(id), 0, -1);

describe('forkSession', () => {
  it('references every segment of the source when forking at the end, copying none', async () => {
    const src = await source();
    const forked = await fork(src.id);
    expect(await store.entries(forked.id)).toEqual(src.entries);
    expect(await segmentItems(forked.id)).toEqual(
      (await segmentItems(src.id)).map((item) => `${src.id}/${item}`),
    );
    expect(await store.blobs.list(blobKeys.segmentsPrefix(forked.id))).toEqual([]);
    expect(await store.meta(forked.id)).toMatchObject({
      status: 'idle',
      lastSeq: 6,
      inputSeq: 3,
      doneInputSeq: 3,
      forkedFrom: { sessionId: src.id, seq: 6 },
    });
    const descriptor = JSON.parse(
      Buffer.from((await store.blobs.get(blobKeys.meta(forked.id)))!).toString('utf8'),
    );
    expect(descriptor.forkedFrom).toEqual({ sessionId: src.id, seq: 6 });
    // The fork reads its source's workspace store instead of copying it.
    const { base, objects } = await WorkspaceObjects.open(store.blobs, forked.id);
    expect(base.ancestors).toEqual([src.id]);
    const [file] = (await objects.readTree(base.tree)).files;
    expect(file?.path).toBe('src/a.txt');
    expect(Buffer.from(await objects.blob(file!)).toString('utf8')).toBe('alpha');
    expect(await store.blobs.list(blobKeys.workspaceBlobsPrefix(forked.id))).toEqual([]);
  });

  it('rewrites only the segment that straddles atSeq, as the fork’s own first part', async () => {
    // One segment per turn: [1-2] [3-4] [5-6]; seq 3 cuts the second.
    const src = await source(2);
    expect(await segmentItems(src.id)).toHaveLength(3);
    const forked = await fork(src.id, 3);
    expect(await store.entries(forked.id)).toEqual(src.entries.slice(0, 3));
    const items = await segmentItems(forked.id);
    expect(items).toEqual([
      `${src.id}/${(await segmentItems(src.id))[0]}`,
      '0000000003-0000000003',
    ]);
    expect(await store.meta(forked.id)).toMatchObject({ inputSeq: 2, doneInputSeq: 2 });
  });

  it('forks a fork: the grandchild shares blobs of both ancestors', async () => {
    const src = await source(1);
    const child = await fork(src.id, 5);
    await writeTurns(store, child.id, [turn('child')]);
    const grandchild = await fork(child.id, 6);
    const entries = await store.entries(grandchild.id);
    expect(entries.slice(0, 5)).toEqual(src.entries.slice(0, 5));
    expect(entries[5]).toMatchObject({ kind: 'user_message', text: 'child', inputSeq: 4 });
    const owners = new Set((await segmentItems(grandchild.id)).map((i) => i.split('/')[0]));
    expect(owners).toEqual(new Set([src.id, child.id]));
    expect(await store.meta(grandchild.id)).toMatchObject({ inputSeq: 4, doneInputSeq: 4 });
  });

  it('forks at seq 0 as an empty session and refuses a seq past the end', async () => {
    const src = await source();
    const empty = await fork(src.id, 0);
    expect(await store.entries(empty.id)).toEqual([]);
    expect(await store.meta(empty.id)).toMatchObject({ lastSeq: 0, inputSeq: 0, status: 'idle' });
    expect(await forkSession(store, src.id, { atSeq: 7 })).toEqual({
      kind: 'seq_out_of_range',
      lastSeq: 6,
    });
    expect(await forkSession(store, 'ses_doesnotexist00')).toEqual({ kind: 'not_found' });
  });

  it('continues independently of its source', async () => {
    const src = await source();
    const forked = await fork(src.id, 2);
    await writeTurns(store, forked.id, [turn('fork only')]);
    await writeTurns(store, src.id, [turn('source only')]);
    const forkTexts = (await store.entries(forked.id)).map(
      (e) => e.kind === 'user_message' && e.inputSeq,
    );
    expect(forkTexts.filter(Boolean)).toEqual([1, 2]);
    expect((await store.entries(src.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await store.entries(forked.id)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });
});

describe('deleting a session that forks share', () => {
  it('keeps the shared segments and workspace under a tombstone until the last fork is deleted', async () => {
    const src = await source();
    const forked = await fork(src.id, 4);
    expect(await deleteSession(store, src.id)).toMatchObject({ kind: 'deleted' });

    expect(await store.meta(src.id)).toBeUndefined();
    expect(await keysOf(src.id)).toEqual([redisKeys.deleted(src.id), redisKeys.forks(src.id)]);
    const kept = await blobsOf(src.id);
    expect(kept.length).toBeGreaterThan(0);
    const shared = [blobKeys.segmentsPrefix(src.id), blobKeys.workspaceStorePrefix(src.id)];
    expect(kept.every((k) => shared.some((prefix) => k.startsWith(prefix)))).toBe(true);
    // The fork still loads, on a cold process too, and can be forked in turn.
    const cold = new SessionStore(redis.client, store.blobs);
    expect(await cold.entries(forked.id)).toEqual(src.entries.slice(0, 4));
    const { base, objects } = await WorkspaceObjects.open(store.blobs, forked.id);
    const [file] = (await objects.readTree(base.tree)).files;
    expect(Buffer.from(await objects.blob(file!)).toString('utf8')).toBe('alpha');
    expect(await forkSession(store, src.id)).toEqual({ kind: 'not_found' });

    expect(await deleteSession(store, forked.id)).toMatchObject({ kind: 'deleted' });
    expect(await keysOf(src.id)).toEqual([]);
    expect(await keysOf(forked.id)).toEqual([]);
    expect(await blobsOf(src.id)).toEqual([]);
    expect(await blobsOf(forked.id)).toEqual([]);
  });

  it('finishes a chain of deleted ancestors when the last descendant goes', async () => {
    const src = await source();
    const child = await fork(src.id);
    const grandchild = await fork(child.id, 3);
    await deleteSession(store, src.id);
    await deleteSession(store, child.id);
    expect(await new SessionStore(redis.client, store.blobs).entries(grandchild.id)).toEqual(
      src.entries.slice(0, 3),
    );
    await deleteSession(store, grandchild.id);
    for (const id of [src.id, child.id, grandchild.id]) {
      expect(await keysOf(id)).toEqual([]);
      expect(await blobsOf(id)).toEqual([]);
    }
  });

  it('keeps a deleted source while another fork remains', async () => {
    const src = await source();
    const a = await fork(src.id, 2);
    const b = await fork(src.id, 6);
    await deleteSession(store, src.id);
    await deleteSession(store, a.id);
    expect(await store.entries(b.id)).toEqual(src.entries);
    await deleteSession(store, b.id);
    expect(await keysOf(src.id)).toEqual([]);
    expect(await blobsOf(src.id)).toEqual([]);
  });

  it('forgets a fork registration whose fork never came to be, once it is old', async () => {
    const src = await source();
    const now = Date.now();
    await redis.client.zadd(redisKeys.forks(src.id), now - STALE_FORK_MS - 1, 'ses_crashedfork000');
    await redis.client.zadd(redisKeys.forks(src.id), now - 1_000, 'ses_beingcreated000');
    await deleteSession(store, src.id, { now });
    // The recent one may still be written: the segments stay for it.
    expect(await redis.client.zrange(redisKeys.forks(src.id), '0', '-1')).toEqual([
      'ses_beingcreated000',
    ]);
    expect((await blobsOf(src.id)).length).toBeGreaterThan(0);
    // Deleting again finishes the job once that one is stale too.
    expect(await deleteSession(store, src.id, { now: now + STALE_FORK_MS })).toEqual({
      kind: 'not_found',
    });
    // Background manifest writes of the source's last commits take themselves back once settled.
    await store.mirror.settled();
    expect(await keysOf(src.id)).toEqual([]);
    expect(await blobsOf(src.id)).toEqual([]);
  });
});
