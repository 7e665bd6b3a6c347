import { describe, expect, it } from 'vitest';
import { TernError } from '../errors/tern-error.ts';
import { isRetryableStoreError, type RetryClock, withStoreRetries } from './store-retry.ts';

/** A clock that only moves when the retry loop sleeps, and draws the largest jitter. */
function fakeClock(): RetryClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    random: () => 0.999,
  };
}

const s3Error = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const netError = (code: string) => Object.assign(new Error(code), { code });
const policy = { baseDelayMs: 100, maxDelayMs: 1000, budgetMs: 5000 };

describe('store retries', () => {
  it('classifies 5xx, throttling and network errors as retryable, 4xx as final', () => {
    expect(isRetryableStoreError(s3Error('SlowDown', 503))).toBe(true);
    expect(isRetryableStoreError(s3Error('InternalError', 500))).toBe(true);
    expect(isRetryableStoreError(s3Error('Unknown', 502))).toBe(true);
    expect(isRetryableStoreError(netError('ECONNREFUSED'))).toBe(true);
    expect(isRetryableStoreError(netError('ECONNRESET'))).toBe(true);
    expect(isRetryableStoreError(s3Error('AccessDenied', 403))).toBe(false);
    expect(isRetryableStoreError(s3Error('NoSuchBucket', 404))).toBe(false);
    expect(isRetryableStoreError(new Error('bug'))).toBe(false);
  });

  it('retries with exponential backoff until the operation succeeds', async () => {
    const clock = fakeClock();
    let calls = 0;
    const result = await withStoreRetries(
      'put k',
      async () => {
        if (++calls < 4) throw s3Error('SlowDown', 503);
        return 'ok';
      },
      policy,
      clock,
    );
    expect(result).toBe('ok');
    expect(clock.slept).toEqual([99, 199, 399]);
  });

  it('caps each wait at maxDelayMs and gives up once the budget is spent', async () => {
    const clock = fakeClock();
    let calls = 0;
    const failure = await withStoreRetries(
      'put k',
      async () => {
        calls++;
        throw netError('ECONNREFUSED');
      },
      policy,
      clock,
    ).catch((e: unknown) => e);
    expect(TernError.isInstance(failure) && failure.code).toBe('blob_store_unavailable');
    expect(TernError.isInstance(failure) && failure.retryable).toBe(true);
    expect(Math.max(...clock.slept)).toBe(999);
    expect(clock.now()).toBeLessThan(policy.budgetMs);
    expect(calls).toBe(clock.slept.length + 1);
  });

  it('does not retry a final error', async () => {
    const clock = fakeClock();
    let calls = 0;
    const failure = await withStoreRetries(
      'get k',
      async () => {
        calls++;
        throw s3Error('AccessDenied', 403);
      },
      policy,
      clock,
    ).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(TernError.isInstance(failure) && failure.code).toBe('blob_store_error');
  });
});
