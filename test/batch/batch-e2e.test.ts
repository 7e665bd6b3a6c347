import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TargetResult } from '@tern/shared/batch/batch-result';
import type { BatchDetail, BatchSummary } from '@tern/shared/protocol/batch-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchRepo,
  pytestCommand,
  sandboxHasPytest,
  ternNodeModules,
  vitestCommand,
  writeBatchRepo,
} from '../helpers/batch-repo.ts';
import { http } from '../helpers/http.ts';
import { runTern } from '../helpers/run-tern.ts';
import { useStack } from '../helpers/use-stack.ts';
import { bashRuns, sessionEntries, waitForBatch, watchBatch } from './fixtures/batch-client.ts';
import {
  ADD_TEST,
  BATCH_SCENARIOS,
  CLAMP_RIGHT,
  clampTest,
  installScenarios,
  MEAN_FIXED,
  MEDIAN_TEST,
  SLUGIFY_TEST,
  TEST_FILES,
} from './fixtures/batch-scenarios.ts';

// A batch over a small real repository: scripted simulator answers write the tests, the tests
// really run in the bwrap sandbox (in the agents' turns and in the dispatcher's verification),
// one target fails first and is fixed, one never passes, and the reports say exactly that.

const env = useStack({
  workers: 2,
  dispatchers: 1,
  env: {
    // The repository's test runner is Tern's own vitest; the sandbox may read it, not change it.
    TERN_SANDBOX_READONLY_PATHS: ternNodeModules,
    BATCH_POLL_MS: '100',
  },
});

let repo: BatchRepo;
/** The TypeScript batch of the first describe, which the CLI tests read back. */
let mainBatchId = '';
beforeAll(async () => {
  repo = writeBatchRepo();
  await installScenarios(env.stack.simUrl, BATCH_SCENARIOS);
});
afterAll(() => repo?.remove());

/** The TypeScript batch: one target per exported function of src/. */
const tsRequest = async (extra: Record<string, unknown> = {}) => ({
  title: 'calc-kit tests',
  source: { kind: 'tarball', base64: await repo.tarballBase64() },
  targets: { globs: ['src/**/*.ts'], functions: true },
  framework: 'vitest',
  testCommand: vitestCommand,
  // Enough steps for a write-run-fix-run-answer agent, too few for one that never gets there.
  budgets: { perTarget: { maxSteps: 6 } },
  concurrency: 2,
  sim: { scenario: 'batch-{{function}}' },
  ...extra,
});

async function submit(body: unknown): Promise<BatchSummary> {
  const res = await http('POST', `${env.stack.apiUrl}/v1/batches`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.batch as BatchSummary;
}

async function result(batchId: string, targetId: string): Promise<TargetResult> {
  const res = await http('GET', `${env.stack.apiUrl}/v1/batches/${batchId}/targets/${targetId}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as TargetResult;
}

const byName = (batch: BatchDetail) => new Map(batch.targets.map((t) => [t.name ?? t.file, t]));
const alnum = (batchId: string) => batchId.slice('bat_'.length);

async function text(path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${env.stack.apiUrl}${path}`, {
    headers: { authorization: `Bearer ${env.stack.token}` },
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: await res.text(),
  };
}

/** Applies a patch to a fresh copy of the repository; answers the copy (or throws why not). */
function applyToCopy(patch: string): string {
  const copy = repo.copy();
  const file = join(copy, '..', `${copy.split('/').at(-1)}.patch`);
  writeFileSync(file, patch);
  for (const args of [
    ['apply', '--check', file],
    ['apply', file],
  ]) {
    const run = spawnSync('git', args, { cwd: copy, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`git ${args.join(' ')}: ${run.stderr}`);
  }
  rmSync(file);
  return copy;
}

describe('a batch over a TypeScript package', () => {
  let batchId: string;
  let finished: BatchDetail;

  it('writes tests for each function, fixes a failing one, and reports what passed', async () => {
    const created = await submit(await tsRequest());
    batchId = created.id;
    mainBatchId = batchId;
    expect(created).toMatchObject({
      status: 'running',
      framework: 'vitest',
      testCommand: vitestCommand,
      concurrency: 2,
      title: 'calc-kit tests',
    });
    expect(created.progress.total).toBe(4);
    const watch = await watchBatch(env.stack.gatewayUrl, batchId);
    try {
      finished = await waitForBatch(env.stack.apiUrl, batchId);
      await watch.waitFor((events) => events.some((e) => e.type === 'batch_finished'));
      const done = watch.events.find((e) => e.type === 'batch_finished');
      expect(done).toMatchObject({ type: 'batch_finished', batchId, status: 'done' });
      expect(done?.type === 'batch_finished' && done.progress.passed).toBe(3);
      const startedTargets = watch.events.flatMap((e) =>
        e.type === 'target_started' ? [e.targetId] : [],
      );
      const finishedTargets = watch.events.flatMap((e) =>
        e.type === 'target_finished' ? [`${e.targetId} ${e.status}`] : [],
      );
      expect(new Set(startedTargets)).toEqual(new Set(['t0', 't1', 't2', 't3']));
      expect(finishedTargets.sort()).toEqual(
        expect.arrayContaining(['t0 passed', 't1 passed', 't3 passed']),
      );
      expect(watch.events.some((e) => e.type === 'batch_progress')).toBe(true);
    } finally {
      watch.close();
    }

    // Targets in file and line order, each with its own deterministic session.
    expect(finished.targets.map((t) => `${t.id} ${t.file}#${t.name}`)).toEqual([
      't0 src/math.ts#add',
      't1 src/math.ts#clamp',
      't2 src/math.ts#mean',
      't3 src/strings.ts#slugify',
    ]);
    for (const [i, t] of finished.targets.entries()) {
      expect(t.sessionId).toBe(`ses_b${alnum(batchId)}t${i}`);
      expect(t.attempt).toBe(1);
      expect(t.tokens.input).toBeGreaterThan(0);
      expect(t.tokens.output).toBeGreaterThan(0);
    }
    const targets = byName(finished);
    expect(targets.get('add')?.status).toBe('passed');
    expect(targets.get('clamp')?.status).toBe('passed');
    expect(targets.get('slugify')?.status).toBe('passed');
    // The agent of mean never gets its test right and its steps run out.
    expect(targets.get('mean')).toMatchObject({
      status: 'budget_exhausted',
      error: { code: 'max_steps' },
    });
    expect(finished.status).toBe('done');
    expect(finished.finishedAt).toBeGreaterThanOrEqual(finished.createdAt);
    expect(finished.progress).toMatchObject({
      total: 4,
      done: 4,
      queued: 0,
      running: 0,
      passed: 3,
      errors: 0,
      cancelled: 0,
      skipped: 0,
    });
    expect(finished.progress).toMatchObject({ failed: 0, budgetExhausted: 1 });
    const sum = (f: (t: BatchDetail['targets'][number]) => number) =>
      finished.targets.reduce((n, t) => n + f(t), 0);
    expect(finished.progress.tokens).toEqual({
      input: sum((t) => t.tokens.input),
      output: sum((t) => t.tokens.output),
    });
  }, 300_000);

  it('keeps each target’s tests and the output of its verification run', async () => {
    const [add, clamp, mean, slugify] = await Promise.all(
      ['t0', 't1', 't2', 't3'].map((id) => result(batchId, id)),
    );
    expect(add?.target).toMatchObject({ id: 't0', file: 'src/math.ts', name: 'add' });
    expect(add?.testFiles).toEqual([{ path: TEST_FILES.add, content: ADD_TEST, original: null }]);
    expect(clamp?.testFiles).toEqual([
      { path: TEST_FILES.clamp, content: clampTest(CLAMP_RIGHT), original: null },
    ]);
    expect(slugify?.testFiles).toEqual([
      { path: TEST_FILES.slugify, content: SLUGIFY_TEST, original: null },
    ]);
    expect(mean?.testFiles.map((f) => f.path)).toEqual([TEST_FILES.mean]);
    expect(mean?.testFiles[0]?.content).toContain('expect(mean([1, 2, 3])).toBe(');
    for (const r of [add, clamp, mean, slugify]) {
      expect(r?.sourceFiles ?? []).toEqual([]);
      expect(r?.tokens.input).toBeGreaterThan(0);
      expect(r?.durationMs).toBeGreaterThan(0);
    }

    // The verification really ran vitest on the target's own test file.
    for (const [r, file, tests] of [
      [add, TEST_FILES.add, 2],
      [clamp, TEST_FILES.clamp, 3],
      [slugify, TEST_FILES.slugify, 1],
    ] as const) {
      expect(r?.status).toBe('passed');
      expect(r?.lastRun?.command).toContain(vitestCommand);
      expect(r?.lastRun?.command).toContain(file);
      expect(r?.lastRun?.exitCode).toBe(0);
      expect(r?.lastRun?.output).toMatch(new RegExp(`Tests\\s+${tests} passed \\(${tests}\\)`));
    }
    expect(mean?.lastRun?.exitCode).toBe(1);
    expect(mean?.lastRun?.output).toContain('AssertionError: expected 2 to be');
    expect(mean?.lastRun?.output).toMatch(/Tests\s+1 failed \(1\)/);

    // A target's result is not there before it finished; an unknown one never is.
    expect((await http('GET', `${env.stack.apiUrl}/v1/batches/${batchId}/targets/t9`)).status).toBe(
      404,
    );
  });

  it('ran each agent’s tests in the sandbox during its turn: clamp failed first, then passed', async () => {
    const clamp = byName(finished).get('clamp');
    const runs = bashRuns(await sessionEntries(env.stack.apiUrl, clamp?.sessionId ?? ''));
    expect(runs.map((r) => r.ok)).toEqual([false, true]);
    expect(runs[0]?.output).toContain('expected 10 to be 15');
    expect(runs[1]?.output).toMatch(/Tests\s+3 passed/);

    const add = byName(finished).get('add');
    expect(bashRuns(await sessionEntries(env.stack.apiUrl, add?.sessionId ?? ''))).toEqual([
      { ok: true, output: expect.stringMatching(/Tests\s+2 passed/) },
    ]);
    // The agent of mean ran its wrong test once per step of its budget.
    const mean = byName(finished).get('mean');
    const meanRuns = bashRuns(await sessionEntries(env.stack.apiUrl, mean?.sessionId ?? ''));
    expect(meanRuns).toHaveLength(6);
    expect(meanRuns.every((r) => !r.ok)).toBe(true);
  });

  it('exports a JUnit report and a patch that applies to the repository and passes', async () => {
    const xml = await text(`/v1/batches/${batchId}/report.xml`);
    expect(xml.status).toBe(200);
    expect(xml.type).toContain('xml');
    expect(xml.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/);
    expect(xml.body).toMatch(/<testsuites [^>]*tests="4" failures="1" errors="0" skipped="0"/);
    expect(xml.body).toContain('<testsuite name="src/math.ts" tests="3" failures="1"');
    expect(xml.body).toContain('<testsuite name="src/strings.ts" tests="1" failures="0"');
    for (const name of ['add', 'clamp', 'mean', 'slugify'])
      expect(xml.body).toContain(`<testcase name="${name}" classname="src/`);
    const meanCase = xml.body.slice(xml.body.indexOf('<testcase name="mean"'));
    expect(meanCase.slice(0, meanCase.indexOf('</testcase>'))).toMatch(
      /<failure message="the budget ran out before the tests passed \(exit code 1\)" type="budget_exhausted">/,
    );

    const patch = await text(`/v1/batches/${batchId}/report.patch`);
    expect(patch.status).toBe(200);
    expect(patch.type).toContain('text/x-diff');
    // The tests that passed, none of the failing one.
    expect(patch.body).toContain(`+++ b/${TEST_FILES.add}`);
    expect(patch.body).toContain(`+++ b/${TEST_FILES.clamp}`);
    expect(patch.body).toContain(`+++ b/${TEST_FILES.slugify}`);
    expect(patch.body).not.toContain(TEST_FILES.mean);
    const copy = applyToCopy(patch.body);
    try {
      expect(readFileSync(join(copy, TEST_FILES.clamp), 'utf8')).toBe(clampTest(CLAMP_RIGHT));
      // The patched repository's own test run passes, outside Tern.
      const run = spawnSync(vitestCommand.split(' ')[0] ?? '', ['run'], {
        cwd: copy,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, CI: '1', NO_COLOR: '1' },
      });
      expect(run.status, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/Test Files\s+3 passed \(3\)/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 60_000);

  it('retries what did not pass, in a fresh session, and leaves the rest as it was', async () => {
    // The "model" of mean gets it right this time.
    await installScenarios(env.stack.simUrl, [MEAN_FIXED]);
    const before = byName(finished);
    const watch = await watchBatch(env.stack.gatewayUrl, batchId);
    try {
      const retried = await http('POST', `${env.stack.apiUrl}/v1/batches/${batchId}/retry`, {});
      expect(retried.status, JSON.stringify(retried.body)).toBe(202);
      expect(retried.body).toEqual({ retried: 1 });
      const again = await waitForBatch(env.stack.apiUrl, batchId, {
        until: (b) =>
          b.status === 'done' && b.targets.every((t) => t.name !== 'mean' || t.attempt === 2),
      });
      const after = byName(again);
      expect(after.get('mean')).toMatchObject({
        status: 'passed',
        attempt: 2,
        sessionId: `ses_b${alnum(batchId)}t2r2`,
      });
      for (const name of ['add', 'clamp', 'slugify']) {
        expect(after.get(name)).toMatchObject({
          status: 'passed',
          attempt: 1,
          sessionId: before.get(name)?.sessionId,
          finishedAt: before.get(name)?.finishedAt,
        });
      }
      expect(again.progress).toMatchObject({ done: 4, passed: 4, failed: 0, budgetExhausted: 0 });
      // Tokens of both attempts of mean count.
      expect(again.progress.tokens.input).toBeGreaterThan(finished.progress.tokens.input);
      // The stream replays the first run's end, then tells of the retry's.
      await watch.waitFor(
        (events) => events.filter((e) => e.type === 'batch_finished').length >= 2,
      );
      const ends = watch.events.filter((e) => e.type === 'batch_finished');
      expect(ends.at(-1)).toMatchObject({ status: 'done', progress: { passed: 4 } });
      expect(
        watch.events.some(
          (e) => e.type === 'target_started' && e.targetId === 't2' && e.attempt === 2,
        ),
      ).toBe(true);

      const mean = await result(batchId, 't2');
      expect(mean.testFiles[0]?.content).toContain('toBe(2)');
      expect(mean.lastRun?.exitCode).toBe(0);
      const patch = await text(`/v1/batches/${batchId}/report.patch`);
      expect(patch.body).toContain(`+++ b/${TEST_FILES.mean}`);
      rmSync(applyToCopy(patch.body), { recursive: true, force: true });
      // Nothing left to retry.
      const none = await http('POST', `${env.stack.apiUrl}/v1/batches/${batchId}/retry`, {});
      expect(none.status).toBe(202);
      expect(none.body).toEqual({ retried: 0 });
    } finally {
      watch.close();
      await installScenarios(env.stack.simUrl, BATCH_SCENARIOS);
    }
  }, 300_000);

  it('is another user’s secret: 404 for every route', async () => {
    const other = await env.stack.addUser('intruder');
    const as = { authorization: `Bearer ${other}` };
    for (const [method, path] of [
      ['GET', ''],
      ['GET', '/targets/t0'],
      ['GET', '/report.patch'],
      ['GET', '/report.xml'],
      ['POST', '/cancel'],
      ['POST', '/retry'],
    ] as const) {
      const res = await http(
        method,
        `${env.stack.apiUrl}/v1/batches/${batchId}${path}`,
        undefined,
        as,
      );
      expect(res.status, `${method} ${path}`).toBe(404);
    }
  });
});

describe.skipIf(!sandboxHasPytest)('a batch over a Python module', () => {
  it('writes pytest tests that pass in the sandbox', async () => {
    expect(repo.python).toBe(true);
    const created = await submit({
      source: { kind: 'tarball', base64: await repo.tarballBase64() },
      targets: { files: ['stats.py'], functions: true },
      framework: 'pytest',
      concurrency: 1,
      sim: { scenario: 'batch-{{function}}' },
    });
    expect(created.testCommand).toBe(pytestCommand);
    const batch = await waitForBatch(env.stack.apiUrl, created.id);
    expect(batch.targets).toMatchObject([
      { id: 't0', file: 'stats.py', name: 'median', status: 'passed', testFile: TEST_FILES.median },
    ]);
    const median = await result(created.id, 't0');
    expect(median.testFiles).toEqual([
      { path: TEST_FILES.median, content: MEDIAN_TEST, original: null },
    ]);
    expect(median.lastRun).toMatchObject({ exitCode: 0 });
    expect(median.lastRun?.command).toContain(`${pytestCommand} ${TEST_FILES.median}`);
    expect(median.lastRun?.output).toMatch(/3 passed/);
    const runs = bashRuns(
      await sessionEntries(env.stack.apiUrl, batch.targets[0]?.sessionId ?? ''),
    );
    expect(runs).toEqual([{ ok: true, output: expect.stringMatching(/3 passed/) }]);
  }, 240_000);
});

describe('cancelling a batch', () => {
  it('stops its agents and leaves every target finished or cancelled', async () => {
    // Slow answers and one target at a time, so most targets are still queued when it is cancelled.
    const created = await submit(
      await tsRequest({ concurrency: 1, sim: { scenario: 'batch-{{function}}', ttftMs: 1500 } }),
    );
    const watch = await watchBatch(env.stack.gatewayUrl, created.id);
    try {
      await watch.waitFor((events) => events.some((e) => e.type === 'target_started'));
      const cancelled = await http('POST', `${env.stack.apiUrl}/v1/batches/${created.id}/cancel`);
      expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(202);
      expect(cancelled.body.batch).toMatchObject({ id: created.id, status: 'cancelling' });
      const batch = await waitForBatch(env.stack.apiUrl, created.id);
      expect(batch.status).toBe('cancelled');
      expect(batch.targets.every((t) => t.status !== 'queued' && t.status !== 'running')).toBe(
        true,
      );
      expect(batch.progress.cancelled).toBeGreaterThanOrEqual(3);
      expect(batch.progress.done).toBe(4);
      await watch.waitFor((events) => events.some((e) => e.type === 'batch_finished'));
      expect(watch.events.find((e) => e.type === 'batch_finished')).toMatchObject({
        status: 'cancelled',
      });
      // A cancelled target never started, or its session's turn was cancelled: none still runs.
      for (const t of batch.targets.filter((x) => x.sessionId)) {
        const res = await http('GET', `${env.stack.apiUrl}/v1/sessions/${t.sessionId}`);
        expect(res.body.session.status, t.id).toBe('idle');
      }
      const xml = await text(`/v1/batches/${created.id}/report.xml`);
      expect(xml.body).toMatch(/<skipped message="cancelled"\/>/);
    } finally {
      watch.close();
    }
  }, 240_000);
});

describe('tern batch', () => {
  const cliEnv = () => ({
    TERN_API_URL: env.stack.apiUrl,
    TERN_GATEWAY_URL: env.stack.gatewayUrl,
    TERN_TOKEN: env.stack.token,
  });

  it('run: tars the folder, follows the batch, writes the reports and exits 1 when a target did not pass', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tern-batch-out-'));
    try {
      // The CLI sends no simulator script, so the simulator's rule model answers: it reads the
      // file and writes no test, and the target fails.
      const cli = await runTern(
        [
          'batch',
          'run',
          repo.dir,
          '--targets',
          'src/strings.ts',
          '--functions',
          '--framework',
          'vitest',
          '--test-command',
          vitestCommand,
          '--concurrency',
          '1',
          '--title',
          'from the cli',
          '--out',
          out,
        ],
        cliEnv(),
      );
      expect(cli.code, cli.stdout + cli.stderr).toBe(1);
      const id = cli.stderr.match(/batch (bat_[A-Za-z0-9]{16}): 1 target\(s\), vitest/)?.[1];
      expect(id, cli.stderr).toBeDefined();
      expect(cli.stderr).toContain(
        `packed ${Object.keys(repo.files).length} file(s) of ${repo.dir}`,
      );
      // Not a TTY: progress as plain lines, the last one at 1 of 1.
      expect(cli.stderr).toMatch(/1\/1/);
      expect(cli.stdout).toContain(`${id} done "from the cli"`);
      expect(cli.stdout).toMatch(/failed\s+t0\s+src\/strings\.ts#slugify/);
      expect(readdirSync(out).sort()).toEqual([`${id}.junit.xml`, `${id}.patch`]);
      const xml = readFileSync(join(out, `${id}.junit.xml`), 'utf8');
      expect(xml).toMatch(/<testsuites name="tern batch from the cli" tests="1" failures="1"/);
      expect(xml).toContain('<testcase name="slugify" classname="src/strings.ts"');
      // Nothing passed, so the patch is empty.
      expect(readFileSync(join(out, `${id}.patch`), 'utf8')).toBe('');
      const batch = await waitForBatch(env.stack.apiUrl, id ?? '');
      expect(batch).toMatchObject({ title: 'from the cli', concurrency: 1, status: 'done' });
      expect(batch.targets).toMatchObject([
        { name: 'slugify', status: 'failed', error: { code: 'no_tests' } },
      ]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 240_000);

  it('status and export: the batch the API ran, all passed after its retry', async () => {
    const id = mainBatchId;
    const status = await runTern(['batch', 'status', id], cliEnv());
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`${id} done "calc-kit tests"`);
    for (const line of [
      /passed\s+t0\s+src\/math\.ts#add/,
      /passed\s+t2\s+src\/math\.ts#mean .*attempt 2/,
    ])
      expect(status.stdout).toMatch(line);

    const out = mkdtempSync(join(tmpdir(), 'tern-batch-export-'));
    try {
      const exported = await runTern(['batch', 'export', id, '--out', out], cliEnv());
      expect(exported.code, exported.stderr).toBe(0);
      const patch = readFileSync(join(out, `${id}.patch`), 'utf8');
      for (const file of [TEST_FILES.add, TEST_FILES.clamp, TEST_FILES.mean, TEST_FILES.slugify])
        expect(patch).toContain(`+++ b/${file}`);
      rmSync(applyToCopy(patch), { recursive: true, force: true });
      expect(readFileSync(join(out, `${id}.junit.xml`), 'utf8')).toMatch(
        /<testsuites name="tern batch calc-kit tests" tests="4" failures="0" errors="0"/,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
