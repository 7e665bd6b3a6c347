import type { PreparedBatchFile, PreparedTarget } from '@tern/shared/batch/batch-prepared';
import type { TargetResult } from '@tern/shared/batch/batch-result';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { sessionStatsFromLog } from '@tern/shared/session/session-stats';
import { type SessionStore, turnIdFor } from '@tern/shared/session/session-store';
import { SandboxError } from '../tools/sandbox/run-sandboxed.ts';
import type { SandboxPolicy } from '../tools/sandbox/sandbox-types.ts';
import { lineCoverage } from './coverage-report.ts';
import { classifyPaths, type KeptPaths, keptPaths } from './target-files.ts';
import { targetStatus } from './target-status.ts';
import { testCommandFor } from './test-command-for.ts';
import { turnOutcome } from './turn-outcome.ts';
import { type LastRun, verifyRun } from './verify-run.ts';
import type { TurnWait } from './wait-for-turn.ts';
import { readChanged, type WorkspaceDiff, workspaceDiff } from './workspace-diff.ts';

export type CollectDeps = {
  store: SessionStore;
  policy: SandboxPolicy | 'unavailable';
  /** This process's folder for verification runs. */
  scratch: string;
};

export type CollectInput = {
  prepared: PreparedBatchFile;
  target: PreparedTarget;
  sessionId: string;
  inputSeq: number;
  wait: TurnWait;
  /** When the target's attempt started, for its duration. */
  startedAt: number;
  /** Aborts a verification run in progress (the dispatcher is stopping). */
  signal?: AbortSignal;
};

/**
 * A target's result once its turn ended: what the agent changed (tests kept, source changes
 * kept only when allowed), the verification of those tests in a fresh sandboxed copy of the
 * snapshot, the coverage they add where the runner reports it, and what the session spent.
 */
export async function collectTargetResult(
  deps: CollectDeps,
  input: CollectInput,
): Promise<TargetResult> {
  const { prepared, target, sessionId } = input;
  const entries = await deps.store.entries(sessionId);
  const outcome = turnOutcome(entries, turnIdFor(sessionId, input.inputSeq));
  const diff = await workspaceDiff(deps.store.blobs, sessionId, entries);
  const classified = classifyPaths(
    diff.changed.map((f) => f.path),
    target.testFile,
  );
  const kept = keptPaths(classified, prepared.allowTouchingSource);
  const read = await readChanged(diff, [...kept.tests, ...kept.sources]);
  const tests = new Set(kept.tests);
  const testFiles = read.files.filter((f) => tests.has(f.path));
  const sourceFiles = read.files.filter((f) => !tests.has(f.path));

  const notes = [
    ...(kept.dropped.length > 0
      ? [`source changes not kept (the job allows tests only): ${kept.dropped.join(', ')}`]
      : []),
    ...read.unreadable.map((u) => `${u.path} left out of the result: ${u.reason}`),
  ];
  const runnable =
    input.wait.kind === 'ended' &&
    outcome.kind !== 'cancelled' &&
    outcome.kind !== 'awaiting_approval' &&
    kept.tests.length > 0;
  let lastRun: LastRun | undefined;
  let coverageDelta: number | undefined;
  let verifyError: string | undefined;
  if (runnable) {
    const verified = await verify(deps, input, diff, kept);
    lastRun = verified.lastRun;
    coverageDelta = verified.coverageDelta;
    verifyError = verified.error;
  }
  const decision = targetStatus({
    wait: input.wait,
    outcome,
    testFiles: testFiles.length,
    ...(lastRun ? { exitCode: lastRun.exitCode } : {}),
    verifyError,
  });
  const spent = usageOf(entries);
  return {
    target: { id: target.id, file: target.file, ...(target.name ? { name: target.name } : {}) },
    status: decision.status,
    testFiles,
    sourceFiles,
    ...(lastRun
      ? {
          lastRun: notes.length
            ? { ...lastRun, output: withNotes(notes, lastRun.output) }
            : lastRun,
        }
      : {}),
    ...(coverageDelta !== undefined ? { coverageDelta } : {}),
    tokens: { input: spent.input, output: spent.output },
    costUsd: spent.costUsd,
    durationMs: Math.max(0, Date.now() - input.startedAt),
    ...(decision.error ? { error: decision.error } : {}),
  };
}

/**
 * The verification run, and the coverage the target's tests add: when the run reports line
 * coverage, the same command runs on the untouched snapshot too. Test files the agent created
 * do not exist there, so a baseline that reports nothing counts as no coverage when every test
 * file is new (the runner found nothing to run), and as unknown otherwise.
 */
async function verify(
  deps: CollectDeps,
  input: CollectInput,
  diff: WorkspaceDiff,
  kept: KeptPaths,
): Promise<{ lastRun?: LastRun; coverageDelta?: number; error?: string }> {
  const { prepared } = input;
  const keep = new Set([...kept.tests, ...kept.sources]);
  const command = testCommandFor(prepared.framework, prepared.testCommand, kept.tests);
  const run = (overlay: WorkspaceDiff['changed']) =>
    verifyRun({
      objects: diff.objects,
      snapshot: diff.snapshot.files,
      overlay,
      command,
      policy: deps.policy,
      wallMs: prepared.budgets.perTarget.maxWallSeconds * 1000,
      scratch: deps.scratch,
      ...(input.signal ? { signal: input.signal } : {}),
    });
  try {
    const lastRun = await run(diff.changed.filter((f) => keep.has(f.path)));
    const after = lineCoverage(lastRun.output);
    if (after === undefined) return { lastRun };
    const baseline = await run([]);
    const existed = new Set(diff.snapshot.files.map((f) => f.path));
    const allNew = kept.tests.every((p) => !existed.has(p));
    const before = lineCoverage(baseline.output) ?? (allNew ? 0 : undefined);
    if (before === undefined) return { lastRun };
    return { lastRun, coverageDelta: Math.round((after - before) * 100) / 100 };
  } catch (error) {
    if (error instanceof SandboxError) return { error: error.message };
    throw error;
  }
}

/** Tokens and cost of every model call the session made (the target's only input). */
function usageOf(entries: readonly LogEntry[]) {
  return sessionStatsFromLog(entries, 1).totals.usage;
}

function withNotes(notes: readonly string[], output: string): string {
  return `${notes.map((n) => `[tern: ${n}]`).join('\n')}\n${output}`;
}
