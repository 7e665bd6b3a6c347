import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.ts';
import { authKeys } from './auth-keys.ts';

const takeRequest = new LuaScript('user-rate-limit-1.lua');

export type RateLimitSettings = {
  /** Sustained requests per second per user; 0 turns the limit off. */
  perSecond: number;
  /** Requests a user may make at once after being idle. */
  burst: number;
};

export type RateDecision =
  | { allowed: true; remaining: number }
  | { allowed: false; remaining: number; retryAfterMs: number };

/**
 * A token bucket per user, kept in Redis so that the limit holds across every API process: ten
 * API processes let a user through no faster than one.
 */
export class UserRateLimit {
  readonly #redis: Redis;
  readonly #settings: RateLimitSettings;

  constructor(redis: Redis, settings: RateLimitSettings) {
    this.#redis = redis;
    this.#settings = settings;
  }

  get enabled(): boolean {
    return this.#settings.perSecond > 0;
  }

  async take(userId: string): Promise<RateDecision> {
    if (!this.enabled) return { allowed: true, remaining: this.#settings.burst };
    const reply = await takeRequest.run(
      this.#redis,
      [authKeys.rateBucket(userId)],
      [this.#settings.perSecond, this.#settings.burst, 1],
    );
    return decisionOf(reply);
  }
}

/** The script's `{allowed, remaining, retryAfterMs}` reply as a decision. */
export function decisionOf(reply: unknown): RateDecision {
  const [allowed, remaining, retryAfterMs] = Array.isArray(reply) ? reply.map(Number) : [];
  if (allowed === 1) return { allowed: true, remaining: remaining ?? 0 };
  return { allowed: false, remaining: remaining ?? 0, retryAfterMs: retryAfterMs ?? 1000 };
}

/**
 * `retry-after` is whole seconds (RFC 9110): rounded up, so a client that waits that long finds a
 * token, and never 0, which clients read as "retry now".
 */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}
