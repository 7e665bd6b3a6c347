import type { LlmError } from './llm-types.ts';

export type RetryPolicy = {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A provider asking to wait longer than this is not retried here; its error carries the wait. */
  maxRetryAfterMs: number;
};

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
};

/**
 * The delay before the next attempt, or `undefined` to stop: exponential backoff with full jitter
 * (a uniform draw up to the exponential cap, so many clients that failed together spread out),
 * replaced by the provider's own retry-after when it gave one.
 */
export function nextRetryDelay(
  policy: RetryPolicy,
  error: LlmError,
  attempt: number,
  random: () => number,
): number | undefined {
  if (!error.retryable || attempt >= policy.maxAttempts) return undefined;
  if (error.retryAfterMs !== undefined) {
    return error.retryAfterMs <= policy.maxRetryAfterMs ? error.retryAfterMs : undefined;
  }
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}
