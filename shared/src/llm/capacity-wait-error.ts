import { TernError } from '../errors/tern-error.ts';

/**
 * A model call that would wait longer for provider capacity than a worker should hold a turn:
 * the one thing a model stream throws instead of ending with `finish`, because the call is not
 * over. Nothing was sent or streamed; the worker hands the turn back to the queue for
 * `retryAfterMs` and it resumes from its log.
 */
export class CapacityWaitError extends TernError {
  readonly retryAfterMs: number;
  readonly provider: string;

  constructor(provider: string, retryAfterMs: number, reason: string) {
    super({
      code: 'capacity_wait',
      message: `${provider} has no capacity for ${retryAfterMs} ms (${reason})`,
      status: 503,
      retryable: true,
      details: { provider, retryAfterMs, reason },
    });
    this.retryAfterMs = retryAfterMs;
    this.provider = provider;
  }

  /** Recognised by code, across duplicated package copies like any TernError. */
  static is(error: unknown): error is CapacityWaitError {
    return TernError.isInstance(error) && error.code === 'capacity_wait';
  }
}
