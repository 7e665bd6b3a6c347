import type { BatchProgress, BatchTargetState, BatchTargetStatus } from '../protocol/batch-api.ts';

/** What the batch's totals hash holds (batch-keys.ts), as numbers. */
export type BatchTotals = { inputTokens: number; outputTokens: number; costMicroUsd: number };

export const MICRO_USD = 1_000_000;

/**
 * A batch's progress from its targets' states and totals. The ETA assumes the targets left take
 * as long on average as the ones done so far (`elapsed / done × remaining`), so it is `null`
 * until one is done. `finishedAt` stops the clock of a finished batch.
 */
export function computeBatchProgress(input: {
  targets: readonly Pick<BatchTargetState, 'status'>[];
  totals: BatchTotals;
  createdAt: number;
  finishedAt?: number | undefined;
  now: number;
}): BatchProgress {
  const byStatus = new Map<BatchTargetStatus, number>();
  for (const { status } of input.targets) byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  const n = (status: BatchTargetStatus) => byStatus.get(status) ?? 0;
  const total = input.targets.length;
  const done = total - n('queued') - n('running');
  const elapsedMs = Math.max(0, (input.finishedAt ?? input.now) - input.createdAt);
  return {
    total,
    queued: n('queued'),
    running: n('running'),
    done,
    passed: n('passed'),
    failed: n('failed'),
    budgetExhausted: n('budget_exhausted'),
    errors: n('error'),
    cancelled: n('cancelled'),
    skipped: n('skipped'),
    tokens: { input: input.totals.inputTokens, output: input.totals.outputTokens },
    costUsd: input.totals.costMicroUsd / MICRO_USD,
    elapsedMs,
    etaMs: done === 0 ? null : Math.round((elapsedMs / done) * (total - done)),
  };
}
