import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import { FileBlobStore } from './file-blob-store.ts';
import { listStoredSessionIds } from './rebuild-session-head.ts';
import { parseSessionBudgets } from './session-budgets.ts';
import { deleteSession } from './session-delete.ts';
import { blobKeys, redisKeys } from './session-keys.ts';
import { SessionStore } from './session-store.ts';
import { readWorkspaceBase, seedWorkspace, WorkspaceObjects } from './workspace-store.ts';

let redis: TestRedis;
let dir: string;
let store: SessionStore;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'tern-session-create-'));
  store = new SessionStore(redis.client, new FileBlobStore(dir));
});

afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
const givenId = () => `ses_given${Date.now()}x${++counter}`;

describe('SessionStore.create', () => {
  it('creates a session under a given id once; creating it again returns it unchanged', async () => {
    const id = givenId();
    const first = await store.create({
      id,
      owner: 'usr_a',
      model: 'openai:tern-sim',
      title: 'one',
    });
    expect(first.id).toBe(id);
    await store.appendInput(id, 'hello', 'c1');
    const before = await store.meta(id);
    expect(before?.inputSeq).toBe(1);

    const again = await store.create({ id, owner: 'usr_b', model: 'openai:other', title: 'two' });
    expect(again).toEqual(before);
    expect(await store.meta(id)).toEqual(before);
    expect(await redis.client.zscore(redisKeys.ownerIndex('usr_a'), id)).not.toBeNull();
    expect(await redis.client.zscore(redisKeys.ownerIndex('usr_b'), id)).toBeNull();
  });

  it('keeps the first of two concurrent creations under the same id', async () => {
    const id = givenId();
    const created = await Promise.all(
      ['a', 'b', 'c'].map((t) => store.create({ id, model: 'openai:tern-sim', title: t })),
    );
    const stored = await store.meta(id);
    for (const meta of created) expect(meta.title).toBe(stored?.title);
    expect(await redis.client.zcount(redisKeys.sessionIndex, '-inf', '+inf')).toBeGreaterThan(0);
  });

  it('refuses an id that is not a session id, and the id of a session being deleted', async () => {
    await expect(store.create({ id: 'bat_nope', model: 'openai:tern-sim' })).rejects.toThrow();
    const id = givenId();
    await store.create({ id, model: 'openai:tern-sim' });
    // A deletion whose blobs are not all gone yet (forks share them, or it was interrupted)
    // keeps its tombstone: the id must not come back meanwhile.
    await redis.client.hset(redisKeys.deleted(id), 'deletedAt', Date.now());
    await redis.client.del(redisKeys.meta(id));
    await expect(store.create({ id, model: 'openai:tern-sim' })).rejects.toMatchObject({
      code: 'session_deleted',
      status: 409,
    });
    // Once the deletion is complete, the id is free again (a retried batch target recreates it).
    await redis.client.del(redisKeys.deleted(id));
    expect((await store.create({ id, model: 'openai:tern-sim' })).id).toBe(id);
    expect((await deleteSession(store, id)).kind).toBe('deleted');
  });

  it("starts a workspace from a tree another store holds, sharing it like a fork's", async () => {
    // A batch's snapshot, stored once under the batch id.
    const snapshotOwner = 'bat_snapshot00000001';
    const snapshot = await seedWorkspace(store.blobs, snapshotOwner, [
      { path: 'src/math.ts', bytes: Buffer.from('export const add = (a, b) => a + b;\n') },
      { path: 'package.json', bytes: Buffer.from('{"name":"m"}\n') },
    ]);
    const id = givenId();
    await store.create({
      id,
      model: 'openai:tern-sim',
      workspaceBase: { tree: snapshot.tree, ancestors: [snapshotOwner] },
    });
    expect(await readWorkspaceBase(store.blobs, id)).toEqual({
      version: 1,
      tree: snapshot.tree,
      ancestors: [snapshotOwner],
    });
    // Nothing of the workspace was copied: the session's own store holds only its base.
    expect(await store.blobs.list(`${blobKeys.sessionPrefix(id)}ws/`)).toEqual([
      blobKeys.workspaceBase(id),
    ]);
    const { base, objects } = await WorkspaceObjects.open(store.blobs, id);
    const tree = await objects.readTree(base.tree);
    const math = tree.files.find((f) => f.path === 'src/math.ts');
    expect(math).toBeDefined();
    expect(Buffer.from(await objects.blob(math!)).toString()).toContain('add');
    // The batch's store is no session: rebuilding heads from the store leaves it out.
    const stored = await listStoredSessionIds(store.blobs);
    expect(stored).toContain(id);
    expect(stored).not.toContain(snapshotOwner);
  });

  it('refuses a workspace base that is not a tree hash, and files with a base', async () => {
    await expect(
      store.create({
        id: givenId(),
        model: 'openai:tern-sim',
        workspaceBase: { tree: 'not-a-hash', ancestors: ['bat_x'] },
      }),
    ).rejects.toThrow();
    await expect(
      store.create({
        model: 'openai:tern-sim',
        files: { 'a.txt': 'a' },
        workspaceBase: { tree: 'a'.repeat(64), ancestors: [] },
      }),
    ).rejects.toThrow(/not both/);
  });

  it('stores per-session turn budgets on the meta; sessions without them read as before', async () => {
    const withBudgets = await store.create({
      model: 'openai:tern-sim',
      budgets: { maxSteps: 4, maxCostUsd: 0.5, maxWallMs: 60_000 },
    });
    const read = await store.meta(withBudgets.id);
    expect(parseSessionBudgets(read?.budgets)).toEqual({
      maxSteps: 4,
      maxCostUsd: 0.5,
      maxWallMs: 60_000,
    });
    await expect(
      store.create({ model: 'openai:tern-sim', budgets: { maxSteps: 0 } }),
    ).rejects.toThrow();

    const plain = await store.create({ model: 'openai:tern-sim' });
    expect(await redis.client.hexists(redisKeys.meta(plain.id), 'budgets')).toBe(0);
    const meta = await store.meta(plain.id);
    expect(meta?.budgets).toBeUndefined();
    expect(parseSessionBudgets(meta?.budgets)).toEqual({});
  });
});
