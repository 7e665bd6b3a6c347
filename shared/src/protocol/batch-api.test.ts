import { describe, expect, it } from 'vitest';
import { sessionIdSchema } from './api.ts';
import {
  batchEventSchema,
  batchIdSchema,
  batchTargetIndex,
  batchTargetSessionId,
  retryBatchBodySchema,
  watchBatchSchema,
} from './batch-api.ts';

describe('batch ids', () => {
  it('derives a session id per target attempt that is a valid session id', () => {
    const batchId = 'bat_AbCdEfGh01234567';
    expect(batchIdSchema.parse(batchId)).toBe(batchId);
    expect(batchTargetSessionId(batchId, 0, 1)).toBe('ses_bAbCdEfGh01234567t0');
    expect(batchTargetSessionId(batchId, 41, 2)).toBe('ses_bAbCdEfGh01234567t41r2');
    for (const [index, attempt] of [
      [0, 1],
      [9_999, 1],
      [9_999, 99],
    ] as const) {
      expect(sessionIdSchema.safeParse(batchTargetSessionId(batchId, index, attempt)).success).toBe(
        true,
      );
    }
    // Distinct per target and per attempt.
    const ids = new Set(
      [0, 1, 10, 11].flatMap((i) => [1, 2, 3].map((a) => batchTargetSessionId(batchId, i, a))),
    );
    expect(ids.size).toBe(12);
  });

  it('refuses malformed batch and target ids', () => {
    for (const bad of ['bat_short', 'bat_AbCdEfGh0123456_', 'ses_AbCdEfGh01234567', '']) {
      expect(batchIdSchema.safeParse(bad).success).toBe(false);
    }
    expect(batchTargetIndex('t12')).toBe(12);
    expect(batchTargetIndex('t012')).toBeUndefined();
    expect(batchTargetIndex('x1')).toBeUndefined();
  });
});

describe('batch request schemas', () => {
  it('retries failed, error and budget_exhausted targets unless told which', () => {
    expect(retryBatchBodySchema.parse({})).toEqual({
      statuses: ['failed', 'error', 'budget_exhausted'],
    });
    expect(retryBatchBodySchema.parse({ statuses: ['skipped'] })).toEqual({
      statuses: ['skipped'],
    });
    expect(retryBatchBodySchema.safeParse({ statuses: ['running'] }).success).toBe(false);
    expect(retryBatchBodySchema.safeParse({ statuses: [] }).success).toBe(false);
    expect(retryBatchBodySchema.safeParse({ all: true }).success).toBe(false);
  });

  it('checks socket frames and stream events', () => {
    expect(watchBatchSchema.safeParse({ batchId: 'bat_AbCdEfGh01234567' }).success).toBe(true);
    expect(
      watchBatchSchema.safeParse({ batchId: 'bat_AbCdEfGh01234567', lastEventId: 'x' }).success,
    ).toBe(false);
    expect(
      batchEventSchema.safeParse({
        type: 'target_finished',
        batchId: 'bat_AbCdEfGh01234567',
        targetId: 't3',
        status: 'queued',
        durationMs: 1,
      }).success,
    ).toBe(false);
  });
});
