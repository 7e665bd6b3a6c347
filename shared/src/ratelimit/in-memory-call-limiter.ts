import type {
  CallLimiter,
  CapacityDecision,
  CapacityRequest,
  CooldownNotice,
} from '../llm/call-limiter.ts';
import { HeldCapacity } from './held-capacity.ts';
import {
  type CallLimiterHooks,
  concurrencyRetryMs,
  type LimiterSettings,
} from './limiter-settings.ts';
import { type EndpointView, pickEndpoint } from './pick-endpoint.ts';
import { type CallPlan, cooldownOf, planCall } from './provider-limits.ts';
import { ReleaseWaiters } from './release-waiters.ts';
import { adjust, type BucketState, refill, waitFor } from './token-bucket.ts';

/**
 * The provider limits of one process, with the Redis limiter's semantics (the same bucket
 * arithmetic and endpoint choice, on a clock it is given): for tests of the LLM layer and the
 * agent loop, and a reference the Lua scripts are held to.
 */
export class InMemoryCallLimiter implements CallLimiter {
  readonly #settings: LimiterSettings;
  readonly #hooks: CallLimiterHooks;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #buckets = new Map<string, BucketState>();
  readonly #inFlight = new Map<string, Set<number>>();
  readonly #coolUntil = new Map<string, number>();
  readonly #rotation = new Map<string, number>();
  readonly #released = new ReleaseWaiters(async () => () => {});
  #calls = 0;

  constructor(settings: LimiterSettings & { now?: () => number }) {
    this.#settings = settings;
    this.#hooks = settings.hooks ?? {};
    this.#now = settings.now ?? Date.now;
    this.#random = settings.random ?? Math.random;
  }

  async acquire(request: CapacityRequest, signal: AbortSignal): Promise<CapacityDecision> {
    const { provider, model, endpoints } = request;
    const plan = planCall(this.#settings.limits[provider], model, request, endpoints.length);
    const { maxWaitMs } = this.#settings;
    const deadline = this.#now() + maxWaitMs;
    for (;;) {
      const now = this.#now();
      const views = endpoints.map((endpoint) => this.#view(provider, endpoint, plan, now));
      const start = this.#rotation.get(provider) ?? 0;
      const choice = pickEndpoint(views, start % endpoints.length, maxWaitMs);
      if (choice.granted) {
        this.#rotation.set(provider, start + 1);
        const endpoint = endpoints[choice.index]!;
        const holder = ++this.#calls;
        this.#take(provider, endpoint, plan, holder, now);
        if (choice.waitMs > 0) this.#hooks.onWait?.(provider, model, choice.waitMs);
        const permit = new HeldCapacity(plan, {
          settle: (deltas) => this.#settle(provider, endpoint, plan, holder, deltas),
          coolingMs: async () => this.#cooling(provider, endpoint, this.#now()),
        });
        return { granted: true, endpoint, waitMs: choice.waitMs, permit };
      }
      let retryAfterMs = choice.retryAfterMs;
      if (choice.reason === 'concurrency') {
        const left = deadline - this.#now();
        if (left > 0 && (await this.#released.wait(provider, left, signal))) continue;
        if (signal.aborted) return { granted: false, reason: 'aborted', retryAfterMs: 0 };
        retryAfterMs = concurrencyRetryMs(maxWaitMs, this.#random);
      }
      this.#hooks.onWait?.(provider, model, retryAfterMs);
      return { granted: false, reason: choice.reason, retryAfterMs };
    }
  }

  async cooldown(notice: CooldownNotice): Promise<void> {
    const { provider, endpoint, reason } = notice;
    const ms = Math.ceil(notice.retryAfterMs ?? cooldownOf(this.#settings.limits[provider]));
    const key = `${provider}/${endpoint}`;
    const until = this.#now() + ms;
    if (ms <= 0 || (this.#coolUntil.get(key) ?? 0) >= until) return;
    this.#coolUntil.set(key, until);
    this.#hooks.onCooldown?.(provider, ms, reason);
  }

  /** Calls holding a slot of the endpoint (its first in-flight set), for tests. */
  inFlight(provider: string, endpoint: string, scope = 'inflight'): number {
    return this.#inFlight.get(`${provider}/${endpoint}/${scope}`)?.size ?? 0;
  }

  #view(provider: string, endpoint: string, plan: CallPlan, now: number): EndpointView {
    const coolingMs = this.#cooling(provider, endpoint, now);
    let waitMs = coolingMs;
    for (const b of plan.buckets) {
      const state = refill(b, this.#buckets.get(`${provider}/${endpoint}/${b.scope}`), now);
      waitMs = Math.max(waitMs, waitFor(b, state, b.charge));
    }
    let full = false;
    let load = 0;
    plan.concurrency.forEach((c, i) => {
      const count = this.#inFlight.get(`${provider}/${endpoint}/${c.scope}`)?.size ?? 0;
      if (i === 0) load = count;
      if (c.max > 0 && count >= c.max) full = true;
    });
    return { waitMs, coolingMs, load, full };
  }

  #cooling(provider: string, endpoint: string, now: number): number {
    return Math.max(0, (this.#coolUntil.get(`${provider}/${endpoint}`) ?? 0) - now);
  }

  #take(provider: string, endpoint: string, plan: CallPlan, holder: number, now: number): void {
    for (const b of plan.buckets) {
      const key = `${provider}/${endpoint}/${b.scope}`;
      this.#buckets.set(key, adjust(b, refill(b, this.#buckets.get(key), now), b.charge));
    }
    for (const c of plan.concurrency) {
      const key = `${provider}/${endpoint}/${c.scope}`;
      const set = this.#inFlight.get(key) ?? new Set();
      set.add(holder);
      this.#inFlight.set(key, set);
    }
  }

  #settle(
    provider: string,
    endpoint: string,
    plan: CallPlan,
    holder: number,
    deltas: readonly number[],
  ): void {
    const now = this.#now();
    plan.buckets.forEach((b, i) => {
      const key = `${provider}/${endpoint}/${b.scope}`;
      const delta = deltas[i] ?? 0;
      if (delta !== 0)
        this.#buckets.set(key, adjust(b, refill(b, this.#buckets.get(key), now), delta));
    });
    let freed = false;
    for (const c of plan.concurrency) {
      freed = this.#inFlight.get(`${provider}/${endpoint}/${c.scope}`)?.delete(holder) || freed;
    }
    if (freed) this.#released.wake(provider);
  }
}
