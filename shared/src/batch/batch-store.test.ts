import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import { type BatchEvent, type BatchTargetState, batchIdSchema } from '../protocol/batch-api.ts';
import { FileBlobStore } from '../session/file-blob-store.ts';
import { batchBlobKeys, batchKeys } from './batch-keys.ts';
import type { PreparedBatchInput } from './batch-prepared.ts';
import type { TargetResult } from './batch-result.ts';
import { BatchStore } from './batch-store.ts';
import { finishedTargetState } from './batch-target-state.ts';

let redis: TestRedis;
let dir: string;
let store: BatchStore;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'tern-batch-store-'));
  store = new BatchStore(redis.client, new FileBlobStore(dir));
});

afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const prepared = (n: number): PreparedBatchInput => ({
  targets: Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    index: i,
    file: `src/f${i}.ts`,
    ...(i % 2 === 1 ? { name: `fn${i}` } : {}),
    testFile: `src/f${i}.test.ts`,
    prompt: `Write vitest tests for src/f${i}.ts.`,
  })),
  framework: 'vitest',
  testCommand: 'npx vitest run',
  budgets: { perTarget: { maxSteps: 10, maxWallSeconds: 600 }, job: {} },
  allowTouchingSource: false,
  model: 'openai:tern-sim',
  sim: { scenario: 'batch-{{function}}' },
  concurrency: 'auto',
});

async function newBatch(n: number, owner = 'usr_a') {
  const id = store.newBatchId();
  const meta = await store.create({
    id,
    owner,
    title: `batch of ${n}`,
    snapshotTree: 'a'.repeat(64),
    request: { source: { kind: 'tarball', base64: 'AAAA' }, targets: { globs: ['src/*.ts'] } },
    prepared: prepared(n),
  });
  return { id, meta };
}

const resultFor = (
  state: BatchTargetState,
  status: TargetResult['status'],
  spent = { input: 100, output: 20, costUsd: 0.001 },
): TargetResult => ({
  target: { id: state.id, file: state.file, ...(state.name ? { name: state.name } : {}) },
  status,
  testFiles: [{ path: state.testFile, content: 'test()', original: null }],
  sourceFiles: [],
  tokens: { input: spent.input, output: spent.output },
  costUsd: spent.costUsd,
  durationMs: 1_500,
});

/** Runs a target's attempt to the end the way a dispatcher does: running, then finished. */
async function runTarget(
  batchId: string,
  targetId: string,
  status: TargetResult['status'],
  spent?: { input: number; output: number; costUsd: number },
) {
  const queued = (await store.target(batchId, targetId))!;
  const running: BatchTargetState = {
    ...queued,
    status: 'running',
    sessionId: `ses_x${targetId}xxxxxxxx`,
    startedAt: Date.now(),
  };
  expect(await store.setTarget(batchId, running)).toBe('updated');
  const result = resultFor(running, status, spent);
  return {
    outcome: await store.finishTarget(
      batchId,
      finishedTargetState(running, result, Date.now()),
      result,
    ),
    result,
    running,
  };
}

const eventsOf = async (id: string) => (await store.events(id, '0-0', 1000)).map((e) => e.event);

describe('BatchStore', () => {
  it('creates a batch: prepared.json in the store, meta and queued targets in Redis, listed', async () => {
    const { id, meta } = await newBatch(3);
    expect(batchIdSchema.parse(id)).toBe(id);
    expect(meta).toMatchObject({
      id,
      owner: 'usr_a',
      title: 'batch of 3',
      status: 'running',
      framework: 'vitest',
      testCommand: 'npx vitest run',
      model: 'openai:tern-sim',
      concurrency: 'auto',
      allowTouchingSource: false,
      total: 3,
      attemptFlow: 1,
    });
    expect(await store.meta(id)).toEqual(meta);
    // The tarball stays out of Redis.
    expect(meta.request).toEqual({ targets: { globs: ['src/*.ts'] } });
    expect(await redis.client.hget(batchKeys.meta(id), 'request')).not.toContain('base64');

    const stored = await store.prepared(id);
    expect(stored?.targets.map((t) => t.id)).toEqual(['t0', 't1', 't2']);
    expect(stored?.version).toBe(1);

    const targets = await store.targets(id);
    expect(targets).toEqual([
      {
        id: 't0',
        file: 'src/f0.ts',
        testFile: 'src/f0.test.ts',
        status: 'queued',
        attempt: 1,
        tokens: { input: 0, output: 0 },
        costUsd: 0,
      },
      expect.objectContaining({ id: 't1', name: 'fn1', status: 'queued', attempt: 1 }),
      expect.objectContaining({ id: 't2', status: 'queued', attempt: 1 }),
    ]);
    expect(await store.owner(id)).toBe('usr_a');
    expect(await store.owner('bat_0000000000000000')).toBeUndefined();

    const mine = await store.list('usr_a', 50);
    expect(mine.batches.map((b) => b.id)).toContain(id);
    expect((await store.list('usr_b', 50)).batches.map((b) => b.id)).not.toContain(id);
    expect((await store.list(undefined, 50)).batches.map((b) => b.id)).toContain(id);
  });

  it('refuses a prepared file whose targets are out of index order', async () => {
    const bad = prepared(2);
    bad.targets = [bad.targets[1]!, bad.targets[0]!];
    await expect(
      store.create({
        id: store.newBatchId(),
        owner: 'usr_a',
        snapshotTree: 'a'.repeat(64),
        request: {},
        prepared: bad,
      }),
    ).rejects.toThrow(/index order/);
  });

  it('lists newest first, a page at a time', async () => {
    const owner = 'usr_pages';
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push((await newBatch(1, owner)).id);
      // Distinct creation times, so the order is defined.
      await new Promise((r) => setTimeout(r, 2));
    }
    const first = await store.list(owner, 2);
    expect(first.batches.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    expect(first.next).toBe(2);
    const second = await store.list(owner, 2, first.next ?? 0);
    expect(second.batches.map((b) => b.id)).toEqual([ids[0]]);
    expect(second.next).toBeNull();
  });

  it('finishes a target once: the result first, then state, totals and events', async () => {
    const { id } = await newBatch(3);
    const { outcome, result, running } = await runTarget(id, 't1', 'passed', {
      input: 1_000,
      output: 200,
      costUsd: 0.0125,
    });
    expect(outcome).toBe('recorded');
    expect(await store.result(id, 't1')).toEqual(result);
    expect(await store.result(id, 't0')).toBeUndefined();
    const finished = await store.target(id, 't1');
    expect(finished).toMatchObject({
      status: 'passed',
      attempt: 1,
      sessionId: running.sessionId,
      tokens: { input: 1_000, output: 200 },
      costUsd: 0.0125,
      durationMs: 1_500,
    });

    // A retried dispatcher job finishing the same attempt again adds nothing.
    const again = await store.finishTarget(id, finished!, result);
    expect(again).toBe('duplicate');
    const progress = await store.progress(id);
    expect(progress).toMatchObject({
      total: 3,
      queued: 2,
      running: 0,
      done: 1,
      passed: 1,
      tokens: { input: 1_000, output: 200 },
      costUsd: 0.0125,
    });
    expect(progress?.etaMs).not.toBeNull();

    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(['target_finished', 'batch_progress']);
    expect(events[0]).toEqual({
      type: 'target_finished',
      batchId: id,
      targetId: 't1',
      status: 'passed',
      durationMs: 1_500,
    });
  });

  it('refuses updates from an attempt that is no longer current or already finished', async () => {
    const { id } = await newBatch(1);
    await runTarget(id, 't0', 'failed');
    const finished = (await store.target(id, 't0'))!;
    // A late "running" from the finished attempt does not reopen it.
    expect(await store.setTarget(id, { ...finished, status: 'running' })).toBe('stale');

    const retry = await store.markRetry(id, ['failed']);
    expect(retry).toEqual({ kind: 'retried', flowNo: 2, targets: [{ id: 't0', attempt: 2 }] });
    // The job of attempt 1 comes back late: nothing it writes lands.
    const late = resultFor(finished, 'passed');
    expect(await store.finishTarget(id, { ...finished, status: 'passed' }, late)).toBe('stale');
    expect(await store.setTarget(id, { ...finished, status: 'running' })).toBe('stale');
    expect(await store.target(id, 't0')).toMatchObject({ status: 'queued', attempt: 2 });
    expect(await store.setTarget(id, { ...finished, id: 't9', status: 'running' })).toBe('missing');
  });

  it('retries the chosen statuses with a fresh attempt, keeps the totals, and starts a new flow', async () => {
    const { id } = await newBatch(4);
    await runTarget(id, 't0', 'passed');
    await runTarget(id, 't1', 'failed');
    await runTarget(id, 't2', 'error');
    await runTarget(id, 't3', 'budget_exhausted');
    expect(await store.finishBatch(id, 1)).toEqual({ kind: 'finished', status: 'done' });
    const before = await store.totals(id);
    expect(before.inputTokens).toBe(400);

    const retry = await store.markRetry(id, ['failed', 'error']);
    expect(retry).toEqual({
      kind: 'retried',
      flowNo: 2,
      targets: [
        { id: 't1', attempt: 2 },
        { id: 't2', attempt: 2 },
      ],
    });
    // The old results are gone: no stored result speaks for the unfinished attempt.
    expect(await store.result(id, 't1')).toBeUndefined();
    expect(await store.result(id, 't0')).toBeDefined();
    expect(await store.target(id, 't1')).toEqual({
      id: 't1',
      file: 'src/f1.ts',
      name: 'fn1',
      testFile: 'src/f1.test.ts',
      status: 'queued',
      attempt: 2,
      tokens: { input: 0, output: 0 },
      costUsd: 0,
    });
    const meta = await store.meta(id);
    expect(meta).toMatchObject({ status: 'running', attemptFlow: 2 });
    expect(meta?.finishedAt).toBeUndefined();

    // The second attempt is counted as well: both attempts were spent.
    await runTarget(id, 't1', 'passed');
    expect((await store.totals(id)).inputTokens).toBe(500);

    // Nothing matches: no new flow.
    expect(await store.markRetry(id, ['skipped'])).toEqual({
      kind: 'retried',
      flowNo: 2,
      targets: [],
    });
    expect(await store.markRetry('bat_0000000000000000', ['failed'])).toEqual({ kind: 'missing' });
  });

  it('ends a batch only once no target is queued or running, whichever flow finds it so', async () => {
    const { id } = await newBatch(3);
    await runTarget(id, 't0', 'failed');
    // Retried while t1 and t2 of the first flow still run: flow 2 works on t0.
    expect(await store.markRetry(id, ['failed'])).toMatchObject({ flowNo: 2 });
    await runTarget(id, 't1', 'passed');
    await runTarget(id, 't0', 'passed');
    // Flow 2's parent runs first: t2 (flow 1) is still queued, so the batch goes on.
    expect(await store.finishBatch(id, 2)).toEqual({
      kind: 'unfinished',
      status: 'running',
      flowNo: 2,
    });
    expect((await store.meta(id))?.status).toBe('running');
    await runTarget(id, 't2', 'passed');
    expect(await store.finishBatch(id, 1)).toEqual({ kind: 'finished', status: 'done' });
    expect(await store.finishBatch(id, 2)).toEqual({ kind: 'already', status: 'done' });
    const summary = await store.summary(id);
    expect(summary?.status).toBe('done');
    expect(summary?.finishedAt).toBeGreaterThanOrEqual(summary?.createdAt ?? Infinity);
    expect(summary?.progress).toMatchObject({ done: 3, passed: 3, etaMs: 0 });
    const finishedEvents = (await eventsOf(id)).filter((e) => e.type === 'batch_finished');
    expect(finishedEvents).toHaveLength(1);
    expect(finishedEvents[0]).toMatchObject({ status: 'done', progress: { passed: 3 } });
  });

  it('announces the end again when a parent died between ending the batch and announcing it', async () => {
    const { id } = await newBatch(1);
    await runTarget(id, 't0', 'passed');
    // The end is recorded, the announcement lost (as after a crash between the two).
    await redis.client.hset(batchKeys.meta(id), { status: 'done', finishedAt: String(Date.now()) });
    expect(await store.finishBatch(id, 1)).toEqual({ kind: 'already', status: 'done' });
    expect(await store.finishBatch(id, 1)).toEqual({ kind: 'already', status: 'done' });
    const finishedEvents = (await eventsOf(id)).filter((e) => e.type === 'batch_finished');
    expect(finishedEvents).toHaveLength(1);
  });

  it('cancels: running → cancelling, then cancelled by the parent; retry is refused meanwhile', async () => {
    const { id } = await newBatch(2);
    expect(await store.requestCancel(id)).toBe('cancelling');
    expect(await store.requestCancel(id)).toBe('cancelling');
    expect(await store.markRetry(id, ['failed'])).toEqual({ kind: 'cancelling' });
    expect(await store.requestCancel('bat_0000000000000000')).toBeUndefined();
    // The dispatchers cancel every target that had not started; then the parent ends the batch.
    for (const targetId of ['t0', 't1']) {
      const state = (await store.target(id, targetId))!;
      const result = resultFor(state, 'cancelled');
      await store.finishTarget(id, finishedTargetState(state, result, Date.now()), result);
    }
    expect(await store.finishBatch(id, 1)).toEqual({ kind: 'finished', status: 'cancelled' });
    // A finished batch is not reopened by a late cancel.
    expect(await store.requestCancel(id)).toBe('cancelled');
  });

  it('reads the stream after a given event id, and skips entries it cannot read', async () => {
    const { id } = await newBatch(1);
    const started: BatchEvent = {
      type: 'target_started',
      batchId: id,
      targetId: 't0',
      sessionId: 'ses_bxxxxxxxxxxxxxxxxt0',
      attempt: 1,
    };
    const first = await store.publish(id, started);
    await redis.client.xadd(batchKeys.events(id), '*', 'e', '{"type":"unknown"}');
    const third = await store.publish(id, { ...started, targetId: 't0', attempt: 2 });
    expect(await store.lastEventId(id)).toBe(third);
    const all = await store.events(id, '', 10);
    expect(all.map((e) => e.id)).toEqual([first, third]);
    const after = await store.events(id, first, 10);
    expect(after).toEqual([{ id: third, event: { ...started, attempt: 2 } }]);
    expect(await store.events(id, third, 10)).toEqual([]);
  });

  it('returns every finished result in target order, and reports a corrupt one', async () => {
    const { id } = await newBatch(3);
    await runTarget(id, 't2', 'passed');
    await runTarget(id, 't0', 'failed');
    const results = await store.results(id);
    expect(results.map((r) => [r.target.id, r.status])).toEqual([
      ['t0', 'failed'],
      ['t2', 'passed'],
    ]);
    await store.blobs.put(batchBlobKeys.result(id, 't2'), '{"status":"passed"}');
    await expect(store.result(id, 't2')).rejects.toMatchObject({ code: 'corrupt_blob' });
  });

  it('detail carries every target with the summary', async () => {
    const { id } = await newBatch(2);
    await runTarget(id, 't0', 'passed');
    const detail = await store.detail(id);
    expect(detail?.targets.map((t) => t.status)).toEqual(['passed', 'queued']);
    expect(detail?.progress).toMatchObject({ total: 2, done: 1, queued: 1 });
    expect(await store.detail('bat_0000000000000000')).toBeUndefined();
  });
});
