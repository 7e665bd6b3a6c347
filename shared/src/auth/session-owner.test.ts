import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import { FileBlobStore } from '../session/file-blob-store.ts';
import { rebuildSessionHead } from '../session/rebuild-session-head.ts';
import { deleteSession } from '../session/session-delete.ts';
import { exportSession } from '../session/session-export.ts';
import { forkSession } from '../session/session-fork.ts';
import { importSession, parseImport } from '../session/session-import.ts';
import { blobKeys, redisKeys } from '../session/session-keys.ts';
import { decodeManifest } from '../session/session-manifest.ts';
import { SessionStore } from '../session/session-store.ts';
import { turn, writeTurns } from '../session/session-test-log.ts';

let redis: TestRedis;
let dir: string;
let store: SessionStore;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'tern-owner-'));
  store = new SessionStore(redis.client, new FileBlobStore(dir));
});

afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const listed = async (owner: string) =>
  (await store.list(50, 0, redisKeys.ownerIndex(owner))).sessions.map((s) => s.id);

async function text(lines: AsyncGenerator<string> | undefined): Promise<string> {
  let out = '';
  for await (const line of lines ?? []) out += line;
  return out;
}

describe("a session's owner", () => {
  it('is the creator, listed in its index, and kept in the descriptor and manifest', async () => {
    const meta = await store.create({ owner: 'usr_alice', model: 'openai:tern-sim' });
    await writeTurns(store, meta.id, [turn('one')]);
    await store.mirror.settled();
    expect(await store.owner(meta.id)).toBe('usr_alice');
    expect(SessionStore.summary((await store.meta(meta.id))!).owner).toBe('usr_alice');
    expect(await listed('usr_alice')).toEqual([meta.id]);
    expect(await listed('usr_bob')).toEqual([]);
    const descriptor = await store.blobs.get(blobKeys.meta(meta.id));
    expect(JSON.parse(Buffer.from(descriptor!).toString()).owner).toBe('usr_alice');
    const key = blobKeys.manifest(meta.id);
    expect(decodeManifest(key, (await store.blobs.get(key))!).owner).toBe('usr_alice');
  });

  it('of a fork is the forker, of an import the importer; an export names the owner', async () => {
    const source = await store.create({ owner: 'usr_carol', model: 'openai:tern-sim' });
    await writeTurns(store, source.id, [turn('one')]);
    const forked = await forkSession(store, source.id, { owner: 'usr_dan' });
    if (forked.kind !== 'forked') throw new Error(forked.kind);
    expect(await store.owner(forked.meta.id)).toBe('usr_dan');
    expect(await listed('usr_dan')).toEqual([forked.meta.id]);
    expect(await listed('usr_carol')).toEqual([source.id]);

    const exported = await text(await exportSession(store, source.id));
    expect(JSON.parse(exported.split('\n')[0]!).owner).toBe('usr_carol');
    const imported = await importSession(store, parseImport(exported), Date.now(), 'usr_dan');
    expect(await store.owner(imported.id)).toBe('usr_dan');
    expect((await listed('usr_dan')).sort()).toEqual([forked.meta.id, imported.id].sort());
  });

  it('loses the session from its index when the session is deleted', async () => {
    const meta = await store.create({ owner: 'usr_erin', model: 'openai:tern-sim' });
    expect(await listed('usr_erin')).toEqual([meta.id]);
    expect(await deleteSession(store, meta.id)).toMatchObject({ kind: 'deleted' });
    expect(await redis.client.zcard(redisKeys.ownerIndex('usr_erin'))).toBe(0);
  });

  it('survives a Redis loss: the rebuilt head has it, and the index lists the session again', async () => {
    const meta = await store.create({ owner: 'usr_fay', model: 'openai:tern-sim' });
    await writeTurns(store, meta.id, [turn('one')]);
    await store.mirror.settled();
    await redis.client.flushall();
    expect(await rebuildSessionHead(redis.client, store.blobs, meta.id)).toMatchObject({
      status: 'rebuilt',
    });
    expect(await store.owner(meta.id)).toBe('usr_fay');
    expect(await listed('usr_fay')).toEqual([meta.id]);
  });
});
