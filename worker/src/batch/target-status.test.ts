import { describe, expect, it } from 'vitest';
import { targetStatus } from './target-status.ts';

const ended = { kind: 'ended' } as const;
const done = { kind: 'done' } as const;
const budget = { kind: 'budget', code: 'max_steps', message: 'out of steps' } as const;

describe('targetStatus', () => {
  it('passes a target whose tests ran green, even when its budget ran out on the way', () => {
    expect(targetStatus({ wait: ended, outcome: done, testFiles: 1, exitCode: 0 })).toEqual({
      status: 'passed',
    });
    expect(targetStatus({ wait: ended, outcome: budget, testFiles: 1, exitCode: 0 }).status).toBe(
      'passed',
    );
  });

  it('fails red tests, and names a run without any test file', () => {
    expect(targetStatus({ wait: ended, outcome: done, testFiles: 1, exitCode: 1 })).toEqual({
      status: 'failed',
    });
    expect(targetStatus({ wait: ended, outcome: done, testFiles: 0 })).toMatchObject({
      status: 'failed',
      error: { code: 'no_tests' },
    });
  });

  it('reads a budget stop with red tests as budget_exhausted', () => {
    expect(targetStatus({ wait: ended, outcome: budget, testFiles: 1, exitCode: 1 })).toEqual({
      status: 'budget_exhausted',
      error: { code: 'max_steps', message: 'out of steps' },
    });
  });

  it('reads a model error, a failed verification and a failed turn job as errors', () => {
    const modelError = { kind: 'error', code: 'server_error', message: '500' } as const;
    expect(targetStatus({ wait: ended, outcome: modelError, testFiles: 0 })).toEqual({
      status: 'error',
      error: { code: 'server_error', message: '500' },
    });
    expect(
      targetStatus({ wait: ended, outcome: done, testFiles: 1, verifyError: 'no bwrap' }),
    ).toEqual({ status: 'error', error: { code: 'verify_failed', message: 'no bwrap' } });
    expect(
      targetStatus({
        wait: { kind: 'job_failed', reason: 'boom' },
        outcome: { kind: 'unknown' },
        testFiles: 0,
      }),
    ).toEqual({ status: 'error', error: { code: 'turn_failed', message: 'boom' } });
  });

  it('reads a cancelled turn as cancelled and a wait for approval as an error', () => {
    expect(targetStatus({ wait: ended, outcome: { kind: 'cancelled' }, testFiles: 1 })).toEqual({
      status: 'cancelled',
    });
    expect(
      targetStatus({
        wait: { kind: 'awaiting_approval' },
        outcome: { kind: 'awaiting_approval' },
        testFiles: 0,
      }),
    ).toMatchObject({ status: 'error', error: { code: 'approval_required' } });
  });
});
