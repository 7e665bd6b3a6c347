import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type {
  CallLimiter,
  CallPermit,
  CapacityDecision,
  CapacityRequest,
  CooldownNotice,
} from '../llm/call-limiter.ts';
import { LuaScript } from '../redis/lua-script.ts';
import { HeldCapacity, type Hold } from './held-capacity.ts';
import {
  type CallLimiterHooks,
  concurrencyRetryMs,
  DEFAULT_SLOT_TTL_MS,
  type LimiterSettings,
} from './limiter-settings.ts';
import { providerLimitKeys as keys } from './provider-limit-keys.ts';
import { type CallPlan, cooldownOf, planCall } from './provider-limits.ts';
import { ReleaseWaiters } from './release-waiters.ts';

const acquireCall = new LuaScript('acquire-provider-call-n.lua');
const settleCall = new LuaScript('settle-provider-call-n.lua');
const renewSlots = new LuaScript('renew-provider-slots-n.lua');
const startCooldown = new LuaScript('start-provider-cooldown-1.lua');

/**
 * Provider limits shared by every worker: token buckets, in-flight slots and cooldowns per
 * endpoint in Redis, each decision one Lua script. A Redis failure lets calls through unlimited
 * (and says so through `onError`): the provider still enforces its own limits, and a worker
 * without Redis cannot commit anyway.
 */
export class RedisCallLimiter implements CallLimiter {
  readonly #redis: Redis;
  readonly #settings: LimiterSettings;
  readonly #hooks: CallLimiterHooks;
  readonly #slotTtlMs: number;
  readonly #random: () => number;
  readonly #id = randomBytes(6).toString('hex');
  readonly #released: ReleaseWaiters;
  #calls = 0;

  constructor(redis: Redis, settings: LimiterSettings) {
    this.#redis = redis;
    this.#settings = settings;
    this.#hooks = settings.hooks ?? {};
    this.#slotTtlMs = settings.slotTtlMs ?? DEFAULT_SLOT_TTL_MS;
    this.#random = settings.random ?? Math.random;
    this.#released = new ReleaseWaiters(() => this.#subscribe());
  }

  async acquire(request: CapacityRequest, signal: AbortSignal): Promise<CapacityDecision> {
    const { provider, model, endpoints } = request;
    const plan = planCall(this.#settings.limits[provider], model, request, endpoints.length);
    const deadline = Date.now() + this.#settings.maxWaitMs;
    for (;;) {
      const holder = `${this.#id}:${++this.#calls}`;
      let reply: unknown;
      try {
        reply = await acquireCall.run(
          this.#redis,
          acquireKeys(provider, endpoints, plan),
          acquireArgs(plan, endpoints.length, this.#settings.maxWaitMs, holder, this.#slotTtlMs),
        );
      } catch (error) {
        this.#hooks.onError?.(error);
        return unlimited(endpoints[this.#calls % endpoints.length]!);
      }
      const [granted, second, third] = Array.isArray(reply) ? reply : [];
      if (granted === 1) {
        const endpoint = endpoints[Number(second) - 1]!;
        const waitMs = Number(third);
        if (waitMs > 0) this.#hooks.onWait?.(provider, model, waitMs);
        const permit = new HeldCapacity(plan, this.#hold(provider, endpoint, plan, holder));
        return { granted: true, endpoint, waitMs, permit };
      }
      const reason = second === 'cooldown' || second === 'concurrency' ? second : 'rate_limit';
      let retryAfterMs = Number(third) || 0;
      if (reason === 'concurrency') {
        const left = deadline - Date.now();
        if (left > 0 && (await this.#released.wait(provider, left, signal))) continue;
        if (signal.aborted) return { granted: false, reason: 'aborted', retryAfterMs: 0 };
        retryAfterMs = concurrencyRetryMs(this.#settings.maxWaitMs, this.#random);
      }
      this.#hooks.onWait?.(provider, model, retryAfterMs);
      return { granted: false, reason, retryAfterMs };
    }
  }

  cooldown(notice: CooldownNotice): Promise<void> {
    const { provider, endpoint, reason } = notice;
    const ms = Math.ceil(notice.retryAfterMs ?? cooldownOf(this.#settings.limits[provider]));
    if (ms <= 0) return Promise.resolve();
    return startCooldown.run(this.#redis, [keys.cooldown(provider, endpoint)], [ms]).then(
      (reply) => {
        if (Array.isArray(reply) && reply[0] === 1) this.#hooks.onCooldown?.(provider, ms, reason);
      },
      (error) => this.#hooks.onError?.(error),
    );
  }

  /** Stops listening for freed slots. */
  close(): void {
    this.#released.close();
  }

  /** The Redis side of one granted attempt. */
  #hold(provider: string, endpoint: string, plan: CallPlan, holder: string): Hold {
    const onError = (error: unknown) => this.#hooks.onError?.(error);
    const buckets = plan.buckets.map((b) => keys.scope(provider, endpoint, b.scope));
    const slots = plan.concurrency.map((c) => keys.scope(provider, endpoint, c.scope));
    const renewal =
      slots.length > 0
        ? setInterval(
            () => {
              renewSlots.run(this.#redis, slots, [holder, this.#slotTtlMs]).catch(onError);
            },
            Math.ceil(this.#slotTtlMs / 3),
          )
        : undefined;
    renewal?.unref();
    return {
      settle: (deltas) => {
        if (renewal) clearInterval(renewal);
        if (slots.length === 0 && deltas.every((d) => d === 0)) return;
        const args: (string | number)[] = [holder, buckets.length, slots.length];
        plan.buckets.forEach((b, i) => {
          args.push(b.ratePerSec, b.burst, deltas[i] ?? 0);
        });
        const limited = plan.concurrency.some((c) => c.max > 0);
        args.push(limited ? keys.releasedChannel : '', provider);
        settleCall.run(this.#redis, [...buckets, ...slots], args).catch(onError);
      },
      coolingMs: async () => {
        try {
          return Math.max(0, await this.#redis.pttl(keys.cooldown(provider, endpoint)));
        } catch (error) {
          onError(error);
          return 0;
        }
      },
    };
  }

  /** A connection of its own for pub/sub (a subscribed connection can do nothing else). */
  async #subscribe(): Promise<() => void> {
    const subscriber = this.#redis.duplicate();
    subscriber.on('error', (error) => this.#hooks.onError?.(error));
    subscriber.on('message', (_channel: string, provider: string) => this.#released.wake(provider));
    await subscriber.subscribe(keys.releasedChannel);
    return () => subscriber.disconnect();
  }
}

function acquireKeys(provider: string, endpoints: readonly string[], plan: CallPlan): string[] {
  const out = [keys.rotation(provider)];
  for (const endpoint of endpoints) {
    out.push(keys.cooldown(provider, endpoint));
    for (const b of plan.buckets) out.push(keys.scope(provider, endpoint, b.scope));
    for (const c of plan.concurrency) out.push(keys.scope(provider, endpoint, c.scope));
  }
  return out;
}

function acquireArgs(
  plan: CallPlan,
  endpointCount: number,
  maxWaitMs: number,
  holder: string,
  slotTtlMs: number,
): (string | number)[] {
  const args: (string | number)[] = [
    maxWaitMs,
    holder,
    slotTtlMs,
    endpointCount,
    plan.buckets.length,
    plan.concurrency.length,
  ];
  for (const b of plan.buckets) args.push(b.ratePerSec, b.burst, b.charge);
  for (const c of plan.concurrency) args.push(c.max);
  return args;
}

const noPermit: CallPermit = { settle() {}, cancel() {}, coolingMs: async () => 0 };

const unlimited = (endpoint: string): CapacityDecision => ({
  granted: true,
  endpoint,
  waitMs: 0,
  permit: noPermit,
});
