import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchDetail } from '@tern/shared/protocol/batch-api';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BatchRepo, writeManyFunctionsRepo } from '../helpers/batch-repo.ts';
import { http } from '../helpers/http.ts';
import { leaseHolder } from '../helpers/long-turn.ts';
import { type Stack, type StackProcess, startStack } from '../helpers/stack.ts';
import { sessionEntries, waitForBatch } from './fixtures/batch-client.ts';
import { installScenarios, type ScenarioDoc } from './fixtures/batch-scenarios.ts';

// A worker and the dispatcher are killed (SIGKILL) in the middle of a batch; replacements start.
// The batch still ends with every target finished, none lost, and no target's agent run twice to
// completion: each target session holds exactly one answered turn, and each target's one bash
// call, which appends to a ledger outside the workspace, ran at most once.

const TARGETS = 12;
const CONCURRENCY = 3;

/** Target i's agent: writes its test, marks the ledger, answers. Slow answers (see the request). */
function crashScenario(i: number, ledger: string): ScenarioDoc {
  return {
    name: `crash-${i}`,
    steps: [
      {
        text: `Writing the test of f${i}.`,
        toolCalls: [
          {
            name: 'write_file',
            arguments: {
              path: `src/mod0.f${i}.test.ts`,
              content: `import { expect, it } from 'vitest';\nimport { f${i} } from './mod0.ts';\n\nit('adds ${i}', () => {\n  expect(f${i}(1)).toBe(${1 + i});\n});\n`,
            },
          },
          { name: 'bash', arguments: { command: `echo t${i} >> ${ledger}` } },
        ],
      },
      { text: `The test of f${i} is written and passes.`, finish: 'stop' },
    ],
  };
}

describe('a worker and the dispatcher killed mid-batch', () => {
  let stack: Stack;
  let repo: BatchRepo;
  let ledgerDir: string;

  beforeAll(async () => {
    ledgerDir = mkdtempSync(join(tmpdir(), 'tern-batch-ledger-'));
    // Sandboxed commands run as an unprivileged user.
    chmodSync(ledgerDir, 0o777);
    repo = writeManyFunctionsRepo(TARGETS);
    stack = await startStack({
      workers: 2,
      dispatchers: 1,
      env: { TERN_SANDBOX_SHARED_PATHS: ledgerDir, BATCH_POLL_MS: '100' },
    });
    const ledger = join(ledgerDir, 'ledger.txt');
    await installScenarios(
      stack.simUrl,
      Array.from({ length: TARGETS }, (_, i) => crashScenario(i, ledger)),
    );
  });
  afterAll(async () => {
    await stack?.stop();
    repo?.remove();
    if (ledgerDir) rmSync(ledgerDir, { recursive: true, force: true });
  });

  /** The worker running one of the batch's turns right now, if any holds a lease. */
  async function busyWorker(batch: BatchDetail): Promise<StackProcess | undefined> {
    for (const t of batch.targets.filter((x) => x.status === 'running' && x.sessionId)) {
      try {
        return await leaseHolder(stack, t.sessionId ?? '');
      } catch {
        // between two steps: no lease held
      }
    }
    return undefined;
  }

  it('finishes every target once: none lost, none run twice to completion', async () => {
    const created = await http('POST', `${stack.apiUrl}/v1/batches`, {
      title: 'crash',
      source: { kind: 'tarball', base64: await repo.tarballBase64() },
      targets: { globs: ['src/**/*.ts'], functions: true },
      framework: 'vitest',
      // The agents' own tests are what this test follows; verification only needs an exit code.
      testCommand: 'true',
      concurrency: CONCURRENCY,
      sim: { scenario: 'crash-{{index}}', ttftMs: 800, itlMs: 25 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const batchId = created.body.batch.id as string;
    expect(created.body.batch.progress.total).toBe(TARGETS);

    // Mid-batch: some targets done, some running, some still queued.
    const middle = await waitForBatch(stack.apiUrl, batchId, {
      until: (b) => b.progress.done >= 2 && b.progress.running >= 1,
    });
    expect(middle.progress.done, 'the batch ended before the kills').toBeLessThan(TARGETS);
    const busy = await busyWorker(middle);
    const worker = busy ?? stack.workers[0];
    const [dispatcher] = stack.dispatchers;
    worker?.child.kill('SIGKILL');
    dispatcher?.child.kill('SIGKILL');
    const inFlight = middle.targets.filter((t) => t.status === 'running').map((t) => t.id);
    await Promise.all([stack.addWorker(), stack.addDispatcher()]);

    const batch = await waitForBatch(stack.apiUrl, batchId, { timeoutMs: 240_000 });
    expect(batch.status).toBe('done');
    expect(batch.targets).toHaveLength(TARGETS);
    expect(batch.targets.map((t) => t.status)).toEqual(Array(TARGETS).fill('passed'));
    expect(batch.progress).toMatchObject({ total: TARGETS, done: TARGETS, passed: TARGETS });

    const ledger = existsSync(join(ledgerDir, 'ledger.txt'))
      ? readFileSync(join(ledgerDir, 'ledger.txt'), 'utf8').trim().split('\n')
      : [];
    for (const [i, t] of batch.targets.entries()) {
      // The crash retried jobs, never the target: its first and only attempt's session.
      expect(t.attempt, t.id).toBe(1);
      expect(t.sessionId, t.id).toBe(`ses_b${batchId.slice(4)}t${i}`);
      const session = await http('GET', `${stack.apiUrl}/v1/sessions/${t.sessionId}`);
      expect(session.body.session, t.id).toMatchObject({ status: 'idle', inputs: 1 });
      const entries: LogEntry[] = await sessionEntries(stack.apiUrl, t.sessionId ?? '');
      const kinds = entries.map((e) => e.kind);
      expect(
        kinds.filter((k) => k === 'user_message'),
        t.id,
      ).toHaveLength(1);
      const answers = entries.filter(
        (e) => e.kind === 'assistant_message' && e.finishReason === 'stop',
      );
      expect(answers, `${t.id}: ${kinds.join(',')}`).toHaveLength(1);
      expect(kinds.at(-1), t.id).toBe('assistant_message');
      const writes = entries.filter((e) => e.kind === 'tool_finished' && e.name === 'write_file');
      expect(writes, t.id).toHaveLength(1);
      // A bash call cut off by the kill is reported as interrupted, never run a second time.
      expect(ledger.filter((line) => line === `t${i}`).length, t.id).toBeLessThanOrEqual(1);
      const result = await http('GET', `${stack.apiUrl}/v1/batches/${batchId}/targets/${t.id}`);
      expect(result.body.testFiles.map((f: { path: string }) => f.path)).toEqual([
        `src/mod0.f${i}.test.ts`,
      ]);
    }
    // Nothing else marked the ledger: every line is one target's, once.
    expect(new Set(ledger).size, ledger.join(',')).toBe(ledger.length);
    // A target's tokens are counted once, whichever dispatcher finished it.
    const sum = (f: (t: BatchDetail['targets'][number]) => number) =>
      batch.targets.reduce((n, t) => n + f(t), 0);
    expect(batch.progress.tokens).toEqual({
      input: sum((t) => t.tokens.input),
      output: sum((t) => t.tokens.output),
    });
    expect(batch.progress.tokens.input).toBeGreaterThan(0);
    console.info(
      `batch crash: killed ${worker?.name}${busy ? ' (running a target turn)' : ''} and ${dispatcher?.name} with ${middle.progress.done} targets done and ${inFlight.join(', ')} in flight; ${ledger.length} bash calls ran`,
    );
  }, 300_000);
});
