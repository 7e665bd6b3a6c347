import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchBlobKeys } from '@tern/shared/batch/batch-keys';
import type { TargetResult } from '@tern/shared/batch/batch-result';
import { BatchStore } from '@tern/shared/batch/batch-store';
import { createLogger } from '@tern/shared/obs/logger';
import { type BatchEvent, batchTargetSessionId } from '@tern/shared/protocol/batch-api';
import { TURN_QUEUE, type TurnJobData } from '@tern/shared/queue/turn-queue';
import { sha256Hex } from '@tern/shared/session/blob-checksum';
import { FileBlobStore } from '@tern/shared/session/file-blob-store';
import type { LogEntry, NewLogEntry } from '@tern/shared/session/log-entry';
import { type Lease, SessionStore, turnIdFor } from '@tern/shared/session/session-store';
import { seedWorkspace, WorkspaceObjects } from '@tern/shared/session/workspace-store';
import {
  buildTree,
  EXEC_MODE,
  FILE_MODE,
  type WorkspaceFile,
} from '@tern/shared/session/workspace-tree';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import { probeSandbox, sandboxPolicyFor } from '../tools/sandbox/probe-sandbox.ts';
import { DEFAULT_SANDBOX_POLICY, type SandboxPolicy } from '../tools/sandbox/sandbox-types.ts';
import { BatchCancelWatch } from './batch-cancel-watch.ts';
import { BatchGates } from './batch-gates.ts';
import { type DispatcherDeps, processTarget } from './process-target.ts';
import { claimVerifyScratch } from './verify-scratch.ts';
import { HandedBackError } from './wait-for-turn.ts';

// The dispatcher's processing of one target against a real redis-server, a folder blob store and
// the real sandbox. The turn itself is run by a stand-in for the worker that commits through the
// session store exactly as a worker's turn does (lease, segment, head, the workspace tree on the
// step's last entry), writing the files each test scripts: what is under test is the dispatcher.

const POLL_MS = 30;
/** The snapshot's test command: runs each test script it is given, as a test runner would. */
const RUNNER = 'for f in "$@"; do sh "$f" || exit 1; done; echo "$# test file(s) passed"\n';
const SNAPSHOT = {
  'run-tests.sh': RUNNER,
  'src/math.sh': 'echo 4\n',
};

let redis: TestRedis;
let dir: string;
let blobs: FileBlobStore;
let store: SessionStore;
let batches: BatchStore;
let turns: Queue<TurnJobData>;
let policy: SandboxPolicy | 'unavailable';
let scratch: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'tern-dispatch-'));
  await chmod(dir, 0o755);
  blobs = new FileBlobStore(join(dir, 'blobs'));
  store = new SessionStore(redis.client, blobs);
  batches = new BatchStore(redis.client, blobs);
  turns = new Queue<TurnJobData>(TURN_QUEUE, {
    connection: { url: redis.url, maxRetriesPerRequest: null },
  });
  policy = sandboxPolicyFor(await probeSandbox({ allowUnsafe: false }), {
    ...DEFAULT_SANDBOX_POLICY,
    limits: { ...DEFAULT_SANDBOX_POLICY.limits, wallMs: 30_000 },
  });
  scratch = await claimVerifyScratch(join(dir, 'verify'));
});

afterAll(async () => {
  await standIn?.close();
  await turns?.close();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** What the stand-in worker's turn does in a session: files it writes, and how the turn ends. */
type Script = { files: Record<string, string>; end?: 'done' | 'max_steps' };
let scripts: Map<string, Script>;
/** Turns the stand-in ran, by session. */
let ran: Map<string, number>;
/** Resolved to let the stand-in run turns (tests hold it back to stop a dispatcher mid-wait). */
let open: Promise<void>;
let openTurns: () => void;
let standIn: Worker<TurnJobData> | undefined;

beforeEach(() => {
  scripts = new Map();
  ran = new Map();
  open = new Promise((resolve) => {
    openTurns = resolve;
  });
  openTurns();
  standIn ??= new Worker<TurnJobData>(TURN_QUEUE, (job) => runTurnAsAWorkerWould(job.data), {
    connection: { url: redis.url, maxRetriesPerRequest: null },
    concurrency: 4,
  });
});

async function runTurnAsAWorkerWould(data: TurnJobData): Promise<void> {
  await open;
  const { sessionId } = data;
  const meta = await store.meta(sessionId);
  if (!meta || meta.doneInputSeq >= meta.inputSeq) return;
  ran.set(sessionId, (ran.get(sessionId) ?? 0) + 1);
  const script = scripts.get(sessionId) ?? { files: {} };
  const inputSeq = meta.doneInputSeq + 1;
  const input = await store.input(sessionId, inputSeq);
  const { base, objects } = await WorkspaceObjects.open(blobs, sessionId);
  const start = await objects.readTree(base.tree);
  const written = await Promise.all(
    Object.entries(script.files).map(async ([path, content]): Promise<WorkspaceFile> => {
      const hash = sha256Hex(content);
      await objects.putBlob(hash, Buffer.from(content));
      return { path, hash, size: Buffer.byteLength(content), mode: FILE_MODE };
    }),
  );
  const paths = new Set(written.map((f) => f.path));
  const tree = buildTree([...start.files.filter((f) => !paths.has(f.path)), ...written]);
  await objects.writeTree(tree);
  const usage = { input: 120, output: 30, cached: 0, reasoning: 0, costUsd: 0.002 };
  const entries: NewLogEntry[] = [
    { kind: 'user_message', text: input?.text ?? '', inputSeq },
    {
      kind: 'assistant_message',
      model: meta.model,
      text: 'tests written',
      reasoning: '',
      toolCalls: [],
      finishReason: 'stop',
      usage,
    },
    ...(script.end === 'max_steps'
      ? [{ kind: 'error', code: 'max_steps', message: 'out of steps' } as NewLogEntry]
      : []),
  ];
  const lease = (await store.acquireLease(sessionId, 'stand-in', 60_000)) as Lease;
  const stamped = entries.map(
    (e, i) =>
      ({
        ...e,
        seq: meta.lastSeq + i + 1,
        turnId: turnIdFor(sessionId, inputSeq),
        epoch: lease.epoch,
        at: Date.now(),
        ...(i === entries.length - 1 ? { workspace: tree.hash } : {}),
      }) as LogEntry,
  );
  expect(await store.commit(lease, meta.lastSeq, stamped, inputSeq)).toBe('committed');
  await store.releaseLease(lease);
}

function deps(stopping = new AbortController().signal): DispatcherDeps {
  return {
    store,
    batches,
    turns,
    gates: new BatchGates({ maxTargets: 8, pollMs: POLL_MS }),
    cancels: new BatchCancelWatch(async (id) => (await batches.meta(id))?.status, POLL_MS),
    policy,
    scratch,
    pollMs: POLL_MS,
    metricsUrlFor: () => undefined,
    logger: createLogger('dispatcher-test', 'silent'),
    stopping,
  };
}

/** A batch over the snapshot with `count` targets, each asked for `checks/t<i>.test.sh`. */
async function newBatch(count = 1): Promise<string> {
  const id = BatchStore.newBatchId();
  const base = await seedWorkspace(
    blobs,
    id,
    Object.entries(SNAPSHOT).map(([path, content]) => ({
      path,
      bytes: Buffer.from(content),
      mode: path === 'run-tests.sh' ? EXEC_MODE : FILE_MODE,
    })),
  );
  await batches.create({
    id,
    owner: 'usr_batch',
    snapshotTree: base.tree,
    request: {},
    prepared: {
      version: 1,
      targets: Array.from({ length: count }, (_, i) => ({
        id: `t${i}`,
        index: i,
        file: 'src/math.sh',
        testFile: `checks/t${i}.test.sh`,
        prompt: `write tests for target ${i}`,
      })),
      framework: 'vitest',
      testCommand: 'sh run-tests.sh',
      budgets: { perTarget: { maxSteps: 5, maxWallSeconds: 60 }, job: {} },
      allowTouchingSource: false,
      model: 'openai-compatible:tern-sim',
      concurrency: 2,
    },
  });
  return id;
}

const sessionOf = (batchId: string, index: number, attempt = 1) =>
  batchTargetSessionId(batchId, index, attempt);

async function eventsOf(batchId: string): Promise<BatchEvent['type'][]> {
  return (await batches.events(batchId, '0-0', 1000)).map((e) => e.event.type);
}

/** A test script that passes when the code under test prints what the snapshot's does. */
const passingTest = '[ "$(sh src/math.sh)" = 4 ] || { echo "math is wrong"; exit 1; }\n';

describe('processTarget', () => {
  it('runs a target end to end: session, turn, verification in the sandbox, result, events', async () => {
    const batchId = await newBatch();
    scripts.set(sessionOf(batchId, 0), {
      files: {
        'checks/t0.test.sh': passingTest,
        // A change to the code under test: not kept, so the verification sees the snapshot's.
        'src/math.sh': 'echo 5\n',
        'node_modules/.cache/x': 'junk',
      },
    });
    expect(await processTarget(deps(), { batchId, targetId: 't0', attempt: 1 })).toBe('finished');

    const result = await batches.result(batchId, 't0');
    expect(result).toMatchObject({
      status: 'passed',
      testFiles: [{ path: 'checks/t0.test.sh', content: passingTest, original: null }],
      sourceFiles: [],
      lastRun: { command: 'sh run-tests.sh checks/t0.test.sh', exitCode: 0 },
      tokens: { input: 120, output: 30 },
      costUsd: 0.002,
    });
    expect(result?.lastRun?.output).toContain('1 test file(s) passed');
    expect(result?.lastRun?.output).toContain('source changes not kept');
    expect(await batches.target(batchId, 't0')).toMatchObject({
      status: 'passed',
      sessionId: sessionOf(batchId, 0),
      tokens: { input: 120, output: 30 },
    });
    expect(await batches.totals(batchId)).toEqual({
      inputTokens: 120,
      outputTokens: 30,
      costMicroUsd: 2000,
    });
    expect(await eventsOf(batchId)).toEqual([
      'target_started',
      'batch_progress',
      'target_finished',
      'batch_progress',
    ]);
    // The target's session belongs to the batch's owner and runs at batch priority.
    expect(await store.meta(sessionOf(batchId, 0))).toMatchObject({
      owner: 'usr_batch',
      inputSeq: 1,
      doneInputSeq: 1,
    });
  });

  it('never redoes a target whose result exists', async () => {
    const batchId = await newBatch();
    scripts.set(sessionOf(batchId, 0), { files: { 'checks/t0.test.sh': passingTest } });
    const job = { batchId, targetId: 't0', attempt: 1 };
    expect(await processTarget(deps(), job)).toBe('finished');
    const before = await batches.result(batchId, 't0');
    const events = await eventsOf(batchId);

    expect(await processTarget(deps(), job)).toBe('already');
    expect(ran.get(sessionOf(batchId, 0))).toBe(1);
    expect((await store.meta(sessionOf(batchId, 0)))?.inputSeq).toBe(1);
    expect(await batches.result(batchId, 't0')).toEqual(before);
    expect(await eventsOf(batchId)).toEqual(events);
  });

  it('records a result stored by a run that died before its state, without running anything', async () => {
    const batchId = await newBatch();
    const stored: TargetResult = {
      target: { id: 't0', file: 'src/math.sh' },
      status: 'failed',
      testFiles: [],
      sourceFiles: [],
      tokens: { input: 7, output: 3 },
      costUsd: 0,
      durationMs: 5,
    };
    await blobs.put(batchBlobKeys.result(batchId, 't0'), JSON.stringify(stored));

    expect(await processTarget(deps(), { batchId, targetId: 't0', attempt: 1 })).toBe('already');
    expect(await batches.target(batchId, 't0')).toMatchObject({
      status: 'failed',
      tokens: { input: 7, output: 3 },
    });
    expect(await batches.totals(batchId)).toMatchObject({ inputTokens: 7, outputTokens: 3 });
    expect(await store.meta(sessionOf(batchId, 0))).toBeUndefined();
  });

  it('resumes a job handed back mid-wait with the same session, input and turn', async () => {
    const batchId = await newBatch();
    const sessionId = sessionOf(batchId, 0);
    scripts.set(sessionId, { files: { 'checks/t0.test.sh': passingTest } });
    open = new Promise((resolve) => {
      openTurns = resolve;
    });
    const job = { batchId, targetId: 't0', attempt: 1 };
    const stopping = new AbortController();
    const first = processTarget(deps(stopping.signal), job);
    // Stop the dispatcher once the turn is queued, before any worker answered it.
    for (;;) {
      const meta = await store.meta(sessionId);
      if (meta?.inputSeq === 1 && (await turns.getJob(`turn-${sessionId}-1`))) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    stopping.abort();
    await expect(first).rejects.toBeInstanceOf(HandedBackError);
    expect((await batches.target(batchId, 't0'))?.status).toBe('running');

    openTurns();
    expect(await processTarget(deps(), job)).toBe('finished');
    const meta = await store.meta(sessionId);
    expect(meta).toMatchObject({ inputSeq: 1, doneInputSeq: 1 });
    const prompts = (await store.entries(sessionId)).filter((e) => e.kind === 'user_message');
    expect(prompts).toHaveLength(1);
    expect(ran.get(sessionId)).toBe(1);
    expect(await batches.target(batchId, 't0')).toMatchObject({ status: 'passed', sessionId });
    // Started once: the resumed job announced nothing new until the target finished.
    expect((await eventsOf(batchId)).filter((t) => t === 'target_started')).toHaveLength(1);
  });

  it('reads red tests at the end of a budget as budget_exhausted', async () => {
    const batchId = await newBatch();
    scripts.set(sessionOf(batchId, 0), {
      files: { 'checks/t0.test.sh': 'echo "expected 5"; exit 1\n' },
      end: 'max_steps',
    });
    await processTarget(deps(), { batchId, targetId: 't0', attempt: 1 });
    const result = await batches.result(batchId, 't0');
    expect(result).toMatchObject({
      status: 'budget_exhausted',
      lastRun: { exitCode: 1 },
      error: { code: 'max_steps' },
    });
    expect(result?.lastRun?.output).toContain('expected 5');
  });

  it('runs a retried target in a fresh session and leaves the replaced attempt’s job stale', async () => {
    const batchId = await newBatch();
    scripts.set(sessionOf(batchId, 0), { files: {} });
    await processTarget(deps(), { batchId, targetId: 't0', attempt: 1 });
    expect((await batches.target(batchId, 't0'))?.status).toBe('failed');
    const retry = await batches.markRetry(batchId, ['failed']);
    expect(retry).toMatchObject({ kind: 'retried', targets: [{ id: 't0', attempt: 2 }] });

    expect(await processTarget(deps(), { batchId, targetId: 't0', attempt: 1 })).toBe('stale');
    scripts.set(sessionOf(batchId, 0, 2), { files: { 'checks/t0.test.sh': passingTest } });
    expect(await processTarget(deps(), { batchId, targetId: 't0', attempt: 2 })).toBe('finished');
    expect(await batches.target(batchId, 't0')).toMatchObject({
      status: 'passed',
      attempt: 2,
      sessionId: sessionOf(batchId, 0, 2),
    });
    expect(ran.get(sessionOf(batchId, 0))).toBe(1);
    expect(ran.get(sessionOf(batchId, 0, 2))).toBe(1);
  });

  it('cancels a target of a cancelled batch without starting an agent', async () => {
    const batchId = await newBatch(2);
    await batches.requestCancel(batchId);
    expect(await processTarget(deps(), { batchId, targetId: 't1', attempt: 1 })).toBe('finished');
    expect((await batches.target(batchId, 't1'))?.status).toBe('cancelled');
    expect(await store.meta(sessionOf(batchId, 1))).toBeUndefined();
  });
});
