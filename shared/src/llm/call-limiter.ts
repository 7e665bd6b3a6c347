/**
 * How the stream driver asks for provider capacity before each attempt of a model call. Types
 * only: the LLM layer stays free of I/O, and the worker injects an implementation (Redis, shared
 * by every worker, in `ratelimit/redis-call-limiter.ts`; in-memory for tests).
 */
import type { LlmErrorKind } from './llm-types.ts';

export type CapacityRequest = {
  provider: string;
  model: string;
  /** Ids of the endpoints (API keys or replicas) the call may go to. */
  endpoints: readonly string[];
  /** Estimated prompt tokens (characters / 4). */
  promptTokens: number;
  /** The call's own output cap, when it set one. */
  maxOutputTokens?: number;
};

/** The capacity one attempt holds, from its grant to the end of the attempt. */
export type CallPermit = {
  /**
   * The attempt is over. `usedTokens`: its real input + output tokens, charged or refunded
   * against the estimate; `undefined` keeps the estimate.
   */
  settle(usedTokens: number | undefined): void;
  /** The attempt was never sent (aborted during its wait): what it reserved goes back. */
  cancel(): void;
  /** How long its endpoint still cools down after a refusal seen while this call waited. */
  coolingMs(): Promise<number>;
};

export type CapacityDecision =
  /** Send to `endpoint` after `waitMs`; the capacity is reserved for this call until then. */
  | { granted: true; endpoint: string; waitMs: number; permit: CallPermit }
  /**
   * Waiting would take longer than a worker should hold a call (or the call was aborted): ask
   * again after `retryAfterMs`.
   */
  | {
      granted: false;
      reason: 'rate_limit' | 'cooldown' | 'concurrency' | 'aborted';
      retryAfterMs: number;
    };

export type CooldownNotice = {
  provider: string;
  endpoint: string;
  /** What the provider asked for; the limiter's default when it said nothing. */
  retryAfterMs?: number;
  reason: LlmErrorKind;
};

export interface CallLimiter {
  acquire(request: CapacityRequest, signal: AbortSignal): Promise<CapacityDecision>;
  /**
   * The endpoint refused a call (429, 529): every caller holds off it for a while. Never
   * rejects; resolves once the cooldown is in place, which the call's next attempt waits for.
   */
  cooldown(notice: CooldownNotice): Promise<void>;
}
