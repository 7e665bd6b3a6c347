import { TernError } from '../errors/tern-error.ts';

export type StoreRetryPolicy = {
  /** The cap of the first backoff; it doubles per attempt up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Total time an operation may spend, retries and waits included, before it fails. */
  budgetMs: number;
};

export const defaultStoreRetryPolicy: StoreRetryPolicy = {
  baseDelayMs: 100,
  maxDelayMs: 5_000,
  budgetMs: 30_000,
};

export type RetryClock = {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
};

export const systemClock: RetryClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

const retryableNames = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
]);

const retryableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/**
 * Whether an S3 call's failure may pass if tried again: 5xx, 408/429 and throttling (`SlowDown`
 * is S3's 503), and the network errors of a store that is restarting or unreachable for a moment.
 * Everything else (404, 403, a bad request) fails at once.
 */
export function isRetryableStoreError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: string;
    code?: string;
    Code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 408 || status === 429)) return true;
  if (e.$retryable) return true;
  if (e.name && retryableNames.has(e.name)) return true;
  if (e.Code && retryableNames.has(e.Code)) return true;
  return e.code !== undefined && retryableCodes.has(e.code);
}

/**
 * Runs `op` until it succeeds, fails with a non-retryable error, or the budget is spent, waiting
 * between attempts with exponential backoff and full jitter (a uniform draw up to the cap, so
 * workers that failed together do not retry together). Tern owns this loop rather than the SDK
 * (whose own retries are off) so that the policy is explicit and tested.
 */
export async function withStoreRetries<T>(
  what: string,
  op: () => Promise<T>,
  policy: StoreRetryPolicy,
  clock: RetryClock,
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void,
): Promise<T> {
  const started = clock.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (error) {
      if (!isRetryableStoreError(error)) throw storeError(what, error, attempt, false);
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.floor(clock.random() * cap);
      if (clock.now() - started + delay >= policy.budgetMs) {
        throw storeError(what, error, attempt, true);
      }
      onRetry?.(error, attempt, delay);
      await clock.sleep(delay);
    }
  }
}

function storeError(what: string, error: unknown, attempts: number, retryable: boolean): TernError {
  const reason = describeError(error);
  return new TernError({
    code: retryable ? 'blob_store_unavailable' : 'blob_store_error',
    status: retryable ? 503 : 500,
    retryable,
    message: retryable
      ? `${what} failed after ${attempts} attempts within the retry budget: ${reason}`
      : `${what} failed: ${reason}`,
    details: { attempts },
    cause: error,
  });
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return [e.name, e.code, status, e.message].filter((p) => p !== undefined && p !== '').join(' ');
}
