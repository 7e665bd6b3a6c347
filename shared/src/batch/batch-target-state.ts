import type { BatchTargetState } from '../protocol/batch-api.ts';
import type { PreparedTarget } from './batch-prepared.ts';
import type { TargetResult } from './batch-result.ts';

/** Every target of a new batch: queued for its first attempt, nothing spent. */
export function initialTargetStates(targets: readonly PreparedTarget[]): BatchTargetState[] {
  return targets.map((t) => ({
    id: t.id,
    file: t.file,
    ...(t.name !== undefined ? { name: t.name } : {}),
    testFile: t.testFile,
    status: 'queued',
    attempt: 1,
    tokens: { input: 0, output: 0 },
    costUsd: 0,
  }));
}

/**
 * The terminal state of a target's attempt, from its result: what a dispatcher hands to
 * `BatchStore.finishTarget` (also when it finds a result stored by a run that died before
 * recording the state).
 */
export function finishedTargetState(
  state: BatchTargetState,
  result: TargetResult,
  finishedAt: number,
): BatchTargetState {
  const { error: _previous, ...rest } = state;
  return {
    ...rest,
    status: result.status,
    finishedAt,
    tokens: { input: result.tokens.input, output: result.tokens.output },
    costUsd: result.costUsd,
    durationMs: result.durationMs,
    ...(result.error ? { error: result.error } : {}),
  };
}
