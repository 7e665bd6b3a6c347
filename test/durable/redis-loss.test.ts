import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { turnJobId } from '@tern/shared/queue/turn-queue';
import type { BlobStore } from '@tern/shared/session/blob-store';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { openBlobStore } from '@tern/shared/session/open-blob-store';
import { rebuildSessionHead } from '@tern/shared/session/rebuild-session-head';
import { openTurnQueue } from '@tern/shared/session/requeue-turn';
import { deleteSession } from '@tern/shared/session/session-delete';
import { forkSession } from '@tern/shared/session/session-fork';
import { blobKeys, redisKeys } from '@tern/shared/session/session-keys';
import { type Lease, SessionStore } from '@tern/shared/session/session-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../helpers/redis-server.ts';
import { startS3, type TestS3 } from '../helpers/s3-server.ts';
import { commitOrThrow, turnCommits, writeFixtureTurns } from '../helpers/session-fixtures.ts';

const cli = fileURLToPath(new URL('../../cli/bin/tern.ts', import.meta.url));

let redis: TestRedis;
let s3: TestS3;
let dir: string;

beforeAll(async () => {
  [redis, s3] = await Promise.all([startRedis(), startS3()]);
  dir = await mkdtemp(join(tmpdir(), 'tern-redis-loss-'));
});

afterAll(async () => {
  await Promise.all([redis?.stop(), s3?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

const stores: [string, () => Record<string, string>][] = [
  ['the folder store', () => ({ BLOB_STORE: `file:${join(dir, 'blobs')}` })],
  ['the S3 store', () => s3.env('redis-loss')],
];

function open(env: Record<string, string>): BlobStore {
  return openBlobStore({
    BLOB_STORE: env.BLOB_STORE!,
    S3_ENDPOINT: env.S3_ENDPOINT,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: true,
    AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
    S3_RETRY_BUDGET_MS: 10_000,
    S3_REQUEST_TIMEOUT_MS: 5_000,
  });
}

/** `tern sessions rebuild-heads` as its own process, configured from the environment. */
function rebuildHeadsCli(env: Record<string, string>, args: string[] = []) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, 'sessions', 'rebuild-heads', ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: redis.url, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => resolve({ code, out }));
  });
}

/** What a client can observe of a session, for before/after comparisons. */
async function observe(store: SessionStore, id: string) {
  const meta = await store.meta(id);
  return {
    entries: await store.entries(id),
    meta: meta && {
      title: meta.title,
      model: meta.model,
      systemPrompt: meta.systemPrompt,
      lastSeq: meta.lastSeq,
      inputSeq: meta.inputSeq,
      doneInputSeq: meta.doneInputSeq,
      status: meta.status,
    },
  };
}

describe.each(stores)('losing all Redis data, with %s', (_name, envOf) => {
  it('rebuilds every session from the store: the log reads identically and turns resume', async () => {
    const env = envOf();
    const blobs = open(env);
    const store = new SessionStore(redis.client, blobs, { snapshotEvery: 8 });

    // A long finished session, renamed after it started.
    const long = await store.create({ model: 'openai:tern-sim', systemPrompt: 'Be brief.' });
    await writeFixtureTurns(store, long.id, 4);
    await store.update(long.id, { title: 'Parser refactor' });
    await writeFixtureTurns(store, long.id, 3);
    // A session whose second turn was cut short by the loss, after three of its five steps.
    const cut = await store.create({ model: 'anthropic:claude-sonnet-4-5' });
    await writeFixtureTurns(store, cut.id, 1);
    await store.appendInput(cut.id, 'second question', undefined);
    const lease = (await store.acquireLease(cut.id, 'w', 60_000)) as Lease;
    let lastSeq = 5;
    for (const entries of turnCommits(2, 6, lease.epoch).slice(0, 3)) {
      await commitOrThrow(store, lease, lastSeq, entries);
      lastSeq += entries.length;
    }
    // A session that never ran a turn.
    const empty = await store.create({ model: 'openai:tern-sim', title: 'Untouched' });
    await store.mirror.settled();

    const ids = [long.id, cut.id, empty.id];
    const before = await Promise.all(ids.map((id) => observe(store, id)));
    const epochBefore = Number(await redis.client.hget(redisKeys.meta(cut.id), 'epoch'));

    await redis.client.flushall();
    expect(await store.meta(long.id)).toBeUndefined();

    const run = await rebuildHeadsCli(env);
    expect(run.code, run.out).toBe(0);
    expect(run.out).toContain('3 rebuilt');
    expect(run.out).toContain(`${cut.id}: rebuilt to seq 8`);
    expect(run.out).toContain('1 unfinished turns re-queued');

    const fresh = new SessionStore(redis.client, open(env));
    const after = await Promise.all(ids.map((id) => observe(fresh, id)));
    expect(after[0]).toEqual(before[0]);
    expect(after[2]).toEqual(before[2]);
    // The cut-short turn is pending again, its input text restored from the log.
    expect(after[1]!.entries).toEqual(before[1]!.entries);
    expect(after[1]!.meta).toMatchObject({
      lastSeq: 8,
      inputSeq: 2,
      doneInputSeq: 1,
      status: 'queued',
    });
    expect((await fresh.input(cut.id, 2))?.text).toBe(
      (before[1]!.entries[5] as LogEntry & { text: string }).text,
    );
    const queue = openTurnQueue(redis.url);
    expect(await queue.getJob(turnJobId(cut.id, 2))).toBeDefined();
    await queue.close();
    expect((await fresh.list(10)).sessions.map((s) => s.id).sort()).toEqual([...ids].sort());

    // The next lease fences every writer from before the loss, and the log goes on.
    const next = (await fresh.acquireLease(cut.id, 'w2', 60_000)) as Lease;
    expect(next.epoch).toBeGreaterThan(epochBefore);
    const rest = turnCommits(2, 6, next.epoch).slice(3);
    await commitOrThrow(fresh, next, 8, rest[0]!);
    await commitOrThrow(fresh, next, 9, rest[1]!, 2);
    expect(await fresh.entries(cut.id)).toEqual([...before[1]!.entries, ...rest.flat()]);

    // A second run finds everything in place.
    const again = await rebuildHeadsCli(env, ['--no-requeue']);
    expect(again.out).toContain('0 rebuilt, 3 already in Redis, 0 failed');
    await fresh.mirror.settled();
    await store.mirror.settled();
  });

  it('keeps the segments a rebuilt fork shares when its rebuilt source is deleted', async () => {
    const blobs = open(envOf());
    const store = new SessionStore(redis.client, blobs, { snapshotEvery: 8 });
    const source = await store.create({ model: 'openai:tern-sim' });
    await writeFixtureTurns(store, source.id, 2);
    const forked = await forkSession(store, source.id, { atSeq: 7 });
    if (forked.kind !== 'forked') throw new Error(`fork failed: ${forked.kind}`);
    await store.mirror.settled();
    const kept = await store.entries(forked.meta.id);
    expect(kept).toHaveLength(7);

    await redis.client.flushall();
    for (const id of [source.id, forked.meta.id]) {
      expect(await rebuildSessionHead(redis.client, blobs, id)).toMatchObject({
        status: 'rebuilt',
      });
    }
    expect(await deleteSession(store, source.id)).toMatchObject({ kind: 'deleted' });
    expect(await new SessionStore(redis.client, blobs).entries(forked.meta.id)).toEqual(kept);
  });

  it("adopts a commit whose manifest write never happened, and prefers the newest lease's segments", async () => {
    const env = envOf();
    const blobs = open(env);
    const store = new SessionStore(redis.client, blobs, { snapshotEvery: 8 });
    const meta = await store.create({ model: 'openai:tern-sim' });
    await writeFixtureTurns(store, meta.id, 2);
    await store.mirror.settled();
    const staleManifest = await blobs.get(blobKeys.manifest(meta.id));

    // A worker loses its lease (expired) while paused; the next one commits a turn.
    const zombie = (await store.acquireLease(meta.id, 'zombie', 60_000)) as Lease;
    await redis.client.del(redisKeys.lease(meta.id));
    const written = await writeFixtureTurns(store, meta.id, 1);
    // The zombie wakes up: its segment is stored, but its commit is fenced.
    const [orphan] = turnCommits(3, 11, zombie.epoch);
    expect(await store.commit(zombie, 10, orphan!)).toBe('fenced');
    await store.mirror.settled();
    const full = await store.entries(meta.id);
    // The last manifest write was lost (say the worker died right after its commit).
    await blobs.put(blobKeys.manifest(meta.id), staleManifest!);

    await redis.client.flushall();
    const result = await rebuildSessionHead(redis.client, blobs, meta.id);
    expect(result).toMatchObject({ status: 'rebuilt', lastSeq: 15 });
    expect(result.status === 'rebuilt' && result.notes.join('\n')).toMatch(/adopted/);
    const fresh = new SessionStore(redis.client, blobs);
    expect(await fresh.entries(meta.id)).toEqual(full);
    expect((await fresh.entries(meta.id)).slice(10)).toEqual(written);
  });
});
