import { describe, expect, it } from 'vitest';
import type { BatchTargetStatus } from '../protocol/batch-api.ts';
import { computeBatchProgress } from './batch-progress.ts';

const targets = (...statuses: BatchTargetStatus[]) => statuses.map((status) => ({ status }));
const totals = { inputTokens: 1_200, outputTokens: 300, costMicroUsd: 12_345 };

describe('computeBatchProgress', () => {
  it('counts targets by status, with every terminal status as done', () => {
    const progress = computeBatchProgress({
      targets: targets(
        'queued',
        'running',
        'passed',
        'passed',
        'failed',
        'budget_exhausted',
        'error',
        'cancelled',
        'skipped',
      ),
      totals,
      createdAt: 1_000,
      now: 15_000,
    });
    expect(progress).toEqual({
      total: 9,
      queued: 1,
      running: 1,
      done: 7,
      passed: 2,
      failed: 1,
      budgetExhausted: 1,
      errors: 1,
      cancelled: 1,
      skipped: 1,
      tokens: { input: 1_200, output: 300 },
      costUsd: 0.012345,
      elapsedMs: 14_000,
      etaMs: 4_000,
    });
  });

  it('has no ETA before a target is done', () => {
    const progress = computeBatchProgress({
      targets: targets('queued', 'running'),
      totals: { inputTokens: 0, outputTokens: 0, costMicroUsd: 0 },
      createdAt: 1_000,
      now: 2_000,
    });
    expect(progress.etaMs).toBeNull();
    expect(progress.done).toBe(0);
  });

  it('stops the clock when the batch finished', () => {
    const progress = computeBatchProgress({
      targets: targets('passed', 'failed'),
      totals,
      createdAt: 1_000,
      finishedAt: 6_000,
      now: 100_000,
    });
    expect(progress.elapsedMs).toBe(5_000);
    expect(progress.etaMs).toBe(0);
  });
});
