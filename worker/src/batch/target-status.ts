import type { TargetStatus } from '@tern/shared/batch/batch-result';
import type { TurnOutcome } from './turn-outcome.ts';
import type { TurnWait } from './wait-for-turn.ts';

export type StatusInput = {
  wait: TurnWait;
  outcome: TurnOutcome;
  /** Test files kept from the agent's workspace. */
  testFiles: number;
  /** The verification run's exit code; absent when it did not run. */
  exitCode?: number | null | undefined;
  /** Why the verification could not run (the sandbox could not start). */
  verifyError?: string | undefined;
};

export type StatusDecision = { status: TargetStatus; error?: { code: string; message: string } };

/**
 * A target's status, by the design's order: what the turn could not do at all first (its job
 * failed, it waits for a human, it was cancelled), then the verification (green tests pass,
 * whatever else happened), then why the turn stopped (a budget, an error), and otherwise the
 * tests simply fail.
 */
export function targetStatus(input: StatusInput): StatusDecision {
  const { wait, outcome } = input;
  if (wait.kind === 'job_failed') {
    return { status: 'error', error: { code: 'turn_failed', message: wait.reason } };
  }
  if (wait.kind === 'awaiting_approval' || outcome.kind === 'awaiting_approval') {
    return {
      status: 'error',
      error: {
        code: 'approval_required',
        message:
          'a tool call waits for approval (the approval policy asks), and a batch has no one to give it',
      },
    };
  }
  if (outcome.kind === 'cancelled') return { status: 'cancelled' };
  if (input.exitCode === 0) return { status: 'passed' };
  if (outcome.kind === 'budget') {
    return { status: 'budget_exhausted', error: { code: outcome.code, message: outcome.message } };
  }
  if (outcome.kind === 'error') {
    return { status: 'error', error: { code: outcome.code, message: outcome.message } };
  }
  if (input.verifyError !== undefined) {
    return { status: 'error', error: { code: 'verify_failed', message: input.verifyError } };
  }
  if (input.testFiles === 0) {
    return {
      status: 'failed',
      error: { code: 'no_tests', message: 'the agent finished without writing a test file' },
    };
  }
  return { status: 'failed' };
}
