import type { BatchMeta } from '@tern/shared/batch/batch-meta';
import type { PreparedBatchFile, PreparedTarget } from '@tern/shared/batch/batch-prepared';
import type { TargetResult, TargetStatus } from '@tern/shared/batch/batch-result';
import type { BatchStore } from '@tern/shared/batch/batch-store';
import { finishedTargetState } from '@tern/shared/batch/batch-target-state';
import type { Logger } from '@tern/shared/obs/logger';
import {
  type BatchTargetState,
  batchTargetIndex,
  isTerminalTargetStatus,
} from '@tern/shared/protocol/batch-api';
import type { BatchTargetJobData } from '@tern/shared/queue/batch-queue';
import type { TurnJobData } from '@tern/shared/queue/turn-queue';
import type { SessionStore } from '@tern/shared/session/session-store';
import type { Queue } from 'bullmq';
import type { SandboxPolicy } from '../tools/sandbox/sandbox-types.ts';
import type { BatchCancelWatch } from './batch-cancel-watch.ts';
import type { BatchGates } from './batch-gates.ts';
import type { BatchMetrics } from './batch-metrics.ts';
import type { GateSlot } from './concurrency-gate.ts';
import { collectTargetResult } from './target-result.ts';
import { enqueueTargetTurn, ensureTargetSession, targetClientMessageId } from './target-session.ts';
import { HandedBackError, waitForTurn } from './wait-for-turn.ts';

export type DispatcherDeps = {
  store: SessionStore;
  batches: BatchStore;
  turns: Queue<TurnJobData>;
  gates: BatchGates;
  cancels: BatchCancelWatch;
  policy: SandboxPolicy | 'unavailable';
  /** This process's folder for verification runs. */
  scratch: string;
  /** BATCH_POLL_MS: how often a target's session is checked. */
  pollMs: number;
  /** The vLLM server whose load an `auto` batch of this model follows, if Tern knows one. */
  metricsUrlFor(model: string): string | undefined;
  logger: Logger;
  metrics?: BatchMetrics | undefined;
  /** Aborts when the dispatcher stops: targets in progress are handed back, not finished. */
  stopping: AbortSignal;
};

/** What a target job did; every kind but `finished` means it found nothing to do. */
export type TargetRun =
  | 'finished'
  /** Finished before (its result is stored): resumed work is never redone. */
  | 'already'
  /** A retry replaced this attempt. */
  | 'stale'
  /** The batch or the target is gone. */
  | 'missing';

/**
 * One target's attempt, the design's steps in order, each safe to repeat: a job that dies at
 * any point and runs again (on this dispatcher or another) finds the session it created, the
 * prompt it appended and the turn job it queued, because all three have ids derived from the
 * batch, the target and the attempt; a stored result ends the target without redoing anything.
 */
export async function processTarget(
  deps: DispatcherDeps,
  job: BatchTargetJobData,
): Promise<TargetRun> {
  const { batches } = deps;
  const { batchId, targetId, attempt } = job;
  const state = await batches.target(batchId, targetId);
  if (!state) return 'missing';
  if (state.attempt !== attempt) return 'stale';
  if (isTerminalTargetStatus(state.status)) return 'already';
  // A run that stored the result and died before recording the state: record it now.
  const stored = await batches.result(batchId, targetId);
  if (stored) return (await record(deps, batchId, state, stored)) === 'stale' ? 'stale' : 'already';

  const [batch, prepared] = await Promise.all([batches.meta(batchId), batches.prepared(batchId)]);
  const target = prepared?.targets[batchTargetIndex(targetId) ?? -1];
  if (!batch || !prepared || !target) return 'missing';
  const started = state.status === 'running' && state.sessionId !== undefined;
  if (!started) {
    if (batch.status === 'cancelling' || batch.status === 'cancelled') {
      return record(deps, batchId, state, emptyResult(target, 'cancelled'));
    }
    const over = await jobBudgetSpent(batches, batch, prepared);
    if (over) return record(deps, batchId, state, emptyResult(target, 'skipped', over));
  }

  const follow = deps.cancels.follow(batchId);
  try {
    const gate = deps.gates.gateFor({
      batchId,
      concurrency: prepared.concurrency,
      metricsUrl: deps.metricsUrlFor(prepared.model),
    });
    let slot: GateSlot;
    if (started) {
      // Its turn is queued or running already: it is in flight whatever the gate allows now.
      slot = gate.claim();
    } else {
      try {
        slot = await gate.acquire(AbortSignal.any([follow.signal, deps.stopping]));
      } catch (error) {
        if (deps.stopping.aborted) throw new HandedBackError('the dispatcher is stopping');
        if (follow.signal.aborted) {
          return record(deps, batchId, state, emptyResult(target, 'cancelled'));
        }
        throw error;
      }
    }
    return await runTarget(deps, {
      batch,
      prepared,
      target,
      state,
      slot,
      cancelled: follow.signal,
    });
  } finally {
    follow.stop();
  }
}

type TargetContext = {
  batch: BatchMeta;
  prepared: PreparedBatchFile;
  target: PreparedTarget;
  state: BatchTargetState;
  /** Held until the target's turn ended; released here. */
  slot: GateSlot;
  cancelled: AbortSignal;
};

/** Steps 3 to 7: the session, the prompt and its turn, the wait, the result. */
async function runTarget(deps: DispatcherDeps, context: TargetContext): Promise<TargetRun> {
  const { batch, prepared, target, slot } = context;
  const attempt = context.state.attempt;
  let state = context.state;
  let queued: { inputSeq: number };
  let wait: Awaited<ReturnType<typeof waitForTurn>>;
  const startedAt = state.startedAt ?? Date.now();
  try {
    const session = await ensureTargetSession(deps.store, batch, prepared, target, attempt);
    if (state.status === 'queued' || state.sessionId !== session.id) {
      state = { ...state, status: 'running', sessionId: session.id, startedAt };
      const set = await deps.batches.setTarget(batch.id, state);
      if (set !== 'updated') return set === 'stale' ? 'stale' : 'missing';
      await deps.batches.publish(batch.id, {
        type: 'target_started',
        batchId: batch.id,
        targetId: target.id,
        sessionId: session.id,
        attempt,
      });
      const progress = await deps.batches.progress(batch.id);
      if (progress) {
        await deps.batches.publish(batch.id, {
          type: 'batch_progress',
          batchId: batch.id,
          progress,
        });
      }
    }
    queued = await enqueueTargetTurn(
      deps.store,
      deps.turns,
      session,
      target.prompt,
      targetClientMessageId(target.id, attempt),
    );
    wait = await waitForTurn(
      {
        store: deps.store,
        turns: deps.turns,
        pollMs: deps.pollMs,
        cancelled: context.cancelled,
        stopping: deps.stopping,
      },
      session.id,
      queued.inputSeq,
    );
  } finally {
    // The model is done with this target; verification only uses this host's CPU.
    slot.release();
  }
  const result = await collectTargetResult(
    { store: deps.store, policy: deps.policy, scratch: deps.scratch },
    {
      prepared,
      target,
      sessionId: state.sessionId!,
      inputSeq: queued.inputSeq,
      wait,
      startedAt,
      signal: deps.stopping,
    },
  );
  if (deps.stopping.aborted) throw new HandedBackError('the dispatcher is stopping');
  return record(deps, batch.id, state, result);
}

/** Step 7: the result, then the terminal state, totals and events (batch-store.ts). */
async function record(
  deps: DispatcherDeps,
  batchId: string,
  state: BatchTargetState,
  result: TargetResult,
): Promise<TargetRun> {
  const finished = finishedTargetState(state, result, Date.now());
  const outcome = await deps.batches.finishTarget(batchId, finished, result);
  if (outcome === 'recorded') {
    deps.metrics?.targetFinished(result.status);
    deps.logger.info(
      {
        batchId,
        targetId: state.id,
        attempt: state.attempt,
        sessionId: state.sessionId,
        status: result.status,
        ms: result.durationMs,
      },
      'batch target finished',
    );
  }
  if (outcome === 'stale') return 'stale';
  if (outcome === 'missing') return 'missing';
  return outcome === 'duplicate' ? 'already' : 'finished';
}

/** The result of a target that never got a session: cancelled, skipped, or failed for good. */
export function emptyResult(
  target: Pick<PreparedTarget, 'id' | 'file' | 'name'>,
  status: TargetStatus,
  error?: { code: string; message: string },
): TargetResult {
  return {
    target: { id: target.id, file: target.file, ...(target.name ? { name: target.name } : {}) },
    status,
    testFiles: [],
    sourceFiles: [],
    tokens: { input: 0, output: 0 },
    costUsd: 0,
    durationMs: 0,
    ...(error ? { error } : {}),
  };
}

/**
 * Why the job's own budget forbids starting another target, if it does. What finished targets
 * spent is summed in the batch's totals; the wall budget counts from the batch's creation.
 */
async function jobBudgetSpent(
  batches: BatchStore,
  batch: BatchMeta,
  prepared: PreparedBatchFile,
): Promise<{ code: string; message: string } | undefined> {
  const budget = prepared.budgets.job;
  const code = 'job_budget_exhausted';
  if (budget.maxWallSeconds !== undefined) {
    const elapsed = Date.now() - batch.createdAt;
    if (elapsed >= budget.maxWallSeconds * 1000) {
      return {
        code,
        message: `the job ran ${Math.round(elapsed / 1000)} s of its ${budget.maxWallSeconds} s`,
      };
    }
  }
  if (budget.maxTokens === undefined && budget.maxCostUsd === undefined) return undefined;
  const totals = await batches.totals(batch.id);
  const tokens = totals.inputTokens + totals.outputTokens;
  if (budget.maxTokens !== undefined && tokens >= budget.maxTokens) {
    return { code, message: `the job used ${tokens} of its ${budget.maxTokens} tokens` };
  }
  const cost = totals.costMicroUsd / 1_000_000;
  if (budget.maxCostUsd !== undefined && cost >= budget.maxCostUsd) {
    return { code, message: `the job cost $${cost.toFixed(4)} of its $${budget.maxCostUsd}` };
  }
  return undefined;
}

/**
 * A target whose job failed for good (its retries spent on errors outside the turn: the store
 * or Redis away, a corrupt blob): recorded as an `error` so the batch still ends.
 */
export async function recordTargetError(
  deps: DispatcherDeps,
  job: BatchTargetJobData,
  error: unknown,
): Promise<void> {
  const state = await deps.batches.target(job.batchId, job.targetId);
  if (!state || state.attempt !== job.attempt || isTerminalTargetStatus(state.status)) return;
  const message = error instanceof Error ? error.message : String(error);
  await record(
    deps,
    job.batchId,
    state,
    emptyResult(
      { id: state.id, file: state.file, ...(state.name ? { name: state.name } : {}) },
      'error',
      { code: 'dispatch_failed', message: message.slice(0, 2000) },
    ),
  );
}
