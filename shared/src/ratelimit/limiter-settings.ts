import type { ProviderLimits } from './provider-limits.ts';

/** Where the limiter reports, for metrics and logs. */
export type CallLimiterHooks = {
  /**
   * A call of `model` on `provider` waits `ms` for capacity: inside the worker, or, when longer
   * than the limiter grants, with its turn handed back to the queue for that long.
   */
  onWait?(provider: string, model: string, ms: number): void;
  /** An endpoint of `provider` went into cooldown for `ms` (`reason`: the error kind it answered). */
  onCooldown?(provider: string, ms: number, reason: string): void;
  /** Redis failed the limiter; the call went ahead unlimited rather than stall its turn. */
  onError?(error: unknown): void;
};

export type LimiterSettings = {
  limits: ProviderLimits;
  /** The longest wait granted; a call that would wait longer is refused with the time. */
  maxWaitMs: number;
  /** Lifetime of an in-flight slot between renewals: a dead worker's slots lapse after it. */
  slotTtlMs?: number;
  hooks?: CallLimiterHooks;
  random?: () => number;
};

export const DEFAULT_SLOT_TTL_MS = 30_000;

/**
 * When every endpoint is at its concurrency limit no wait is known; the call is handed back for
 * about the longest granted wait, spread so that refused calls do not all return at once.
 */
export function concurrencyRetryMs(maxWaitMs: number, random: () => number): number {
  return Math.round(Math.max(500, maxWaitMs) * (0.5 + random()));
}
