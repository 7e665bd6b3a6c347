import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import type { CallLimiter, CapacityDecision, CapacityRequest } from '../llm/call-limiter.ts';
import { InMemoryCallLimiter } from './in-memory-call-limiter.ts';
import type { LimiterSettings } from './limiter-settings.ts';
import { providerLimitKeys } from './provider-limit-keys.ts';
import { type ProviderLimits, providerLimitsSchema } from './provider-limits.ts';
import { RedisCallLimiter } from './redis-call-limiter.ts';

// The Lua scripts (acquire-provider-call-n, settle-provider-call-n, renew-provider-slots-n,
// start-provider-cooldown-1) against a real redis-server, through the limiter every worker uses.

let redis: TestRedis;
const clients: Redis[] = [];
const limiters: RedisCallLimiter[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const limiter of limiters) limiter.close();
  for (const client of clients) client.disconnect();
  await redis?.stop();
});
beforeEach(async () => {
  await redis.client.flushall();
});

/** A limiter on its own connection, as each worker process has. */
function worker(limits: unknown, extra: Partial<LimiterSettings> = {}): RedisCallLimiter {
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  clients.push(client);
  const limiter = new RedisCallLimiter(client, {
    limits: providerLimitsSchema.parse(limits),
    maxWaitMs: 2000,
    ...extra,
  });
  limiters.push(limiter);
  return limiter;
}

const never = new AbortController().signal;
const ask = (
  limiter: CallLimiter,
  extra: Partial<CapacityRequest> = {},
): Promise<CapacityDecision> =>
  limiter.acquire(
    { provider: 'openai', model: 'gpt-4.1', endpoints: ['k1'], promptTokens: 0, ...extra },
    never,
  );
const waitOf = (d: CapacityDecision) => (d.granted ? d.waitMs : -1);

describe('acquire-provider-call-n.lua', () => {
  it('grants the burst at once, then reserves ahead one interval apart, then refuses with the time', async () => {
    const limiter = worker({ openai: { requestsPerMinute: 60, requestBurst: 2 } });
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) waits.push(waitOf(await ask(limiter)));
    expect(waits.slice(0, 2)).toEqual([0, 0]);
    // One request a second: the third waits about a second, the fourth about two (the clock of
    // Redis moves a little between calls).
    expect(waits[2]).toBeGreaterThan(900);
    expect(waits[2]).toBeLessThanOrEqual(1000);
    expect(waits[3]).toBeGreaterThan(1900);
    expect(waits[3]).toBeLessThanOrEqual(2000);
    const refused = await ask(limiter);
    expect(refused).toMatchObject({ granted: false, reason: 'rate_limit' });
    expect(refused.granted === false && refused.retryAfterMs).toBeGreaterThan(2000);
  });

  it('shares one bucket between workers', async () => {
    const limits = { openai: { requestsPerMinute: 60, requestBurst: 1 } };
    const [a, b] = [worker(limits), worker(limits)];
    expect(waitOf(await ask(a))).toBe(0);
    expect(waitOf(await ask(b))).toBeGreaterThan(900);
  });

  it('agrees with the in-memory limiter on what it grants, where and for how long', async () => {
    const limits = providerLimitsSchema.parse({
      openai: { requestsPerMinute: 120, requestBurst: 3, tokensPerMinute: 6000, tokenBurst: 1500 },
    });
    const shared = { limits, maxWaitMs: 1500 };
    const inRedis = worker(limits, shared);
    const inMemory = new InMemoryCallLimiter({ ...shared, now: () => 0 });
    const calls: Partial<CapacityRequest>[] = [
      { promptTokens: 100, maxOutputTokens: 200, endpoints: ['a', 'b'] },
      { promptTokens: 900, maxOutputTokens: 100, endpoints: ['a', 'b'] },
      { promptTokens: 50, maxOutputTokens: 50, endpoints: ['a', 'b'] },
      { promptTokens: 1000, maxOutputTokens: 400, endpoints: ['a', 'b'] },
      { promptTokens: 10, maxOutputTokens: 10, endpoints: ['a', 'b'] },
      { promptTokens: 1200, maxOutputTokens: 300, endpoints: ['a', 'b'] },
      { promptTokens: 1200, maxOutputTokens: 300, endpoints: ['a', 'b'] },
      { promptTokens: 5, maxOutputTokens: 5, endpoints: ['a', 'b'] },
    ];
    for (const call of calls) {
      const [r, m] = [await ask(inRedis, call), await ask(inMemory, call)];
      expect(r.granted, JSON.stringify(call)).toBe(m.granted);
      if (r.granted && m.granted) {
        expect(r.endpoint).toBe(m.endpoint);
        expect(Math.abs(r.waitMs - m.waitMs)).toBeLessThan(50);
      } else if (!r.granted && !m.granted) {
        expect(r.reason).toBe(m.reason);
        expect(Math.abs(r.retryAfterMs - m.retryAfterMs)).toBeLessThan(50);
      }
    }
  });

  it('takes turns between replicas and sends a call where fewer are in flight', async () => {
    const limiter = worker({});
    const picks: string[] = [];
    for (let i = 0; i < 4; i++) {
      const d = await ask(limiter, { endpoints: ['r1', 'r2'] });
      if (d.granted) picks.push(d.endpoint);
      if (d.granted && i < 3) d.permit.settle(0);
    }
    expect(picks).toEqual(['r1', 'r2', 'r1', 'r2']);
    // r2 still runs the fourth call: the next two go to r1 first, then r1 again (1 vs 1 → turn).
    const next = await ask(limiter, { endpoints: ['r1', 'r2'] });
    expect(next.granted && next.endpoint).toBe('r1');
  });
});

describe('settle-provider-call-n.lua', () => {
  const limits = { openai: { tokensPerMinute: 60_000, tokenBurst: 2000 } };

  it('refunds what a call did not use and charges what it used beyond its estimate', async () => {
    const limiter = worker(limits);
    const first = await ask(limiter, { promptTokens: 1000, maxOutputTokens: 1000 });
    expect(waitOf(first)).toBe(0);
    // The bucket is empty: another 2000-token call would wait two seconds.
    expect(waitOf(await ask(worker(limits, { maxWaitMs: 0 }), { promptTokens: 2000 }))).toBe(-1);
    if (first.granted) first.permit.settle(500);
    const second = await ask(limiter, { promptTokens: 1000, maxOutputTokens: 400 });
    expect(waitOf(second)).toBe(0);
    // This one used far more than it said: the bucket goes into debt and the next call waits.
    if (second.granted) second.permit.settle(3000);
    const third = await ask(limiter, { promptTokens: 10, maxOutputTokens: 10 });
    expect(waitOf(third)).toBeGreaterThan(1000);
  });

  it('gives a cancelled reservation back, so the next caller waits as if it never came', async () => {
    const limiter = worker({ openai: { requestsPerMinute: 60, requestBurst: 1 } });
    await ask(limiter);
    const reserved = await ask(limiter);
    expect(waitOf(reserved)).toBeGreaterThan(900);
    if (reserved.granted) reserved.permit.cancel();
    const again = await ask(limiter);
    expect(waitOf(again)).toBeGreaterThan(900);
    expect(waitOf(again)).toBeLessThanOrEqual(1000);
  });
});

describe('concurrency limits', () => {
  const limits = { openai: { maxConcurrent: 1 } };

  it('wakes a call waiting for a slot as soon as another worker frees one', async () => {
    const [a, b] = [worker(limits), worker(limits)];
    const held = await ask(a);
    expect(held.granted).toBe(true);
    const waiting = ask(b);
    await new Promise((r) => setTimeout(r, 200));
    if (held.granted) held.permit.settle(0);
    const woken = await waiting;
    expect(woken.granted).toBe(true);
  });

  it('hands the call back after the longest wait when no slot frees up', async () => {
    const limiter = worker(limits, { maxWaitMs: 300, random: () => 0.5 });
    await ask(limiter);
    expect(await ask(limiter)).toEqual({
      granted: false,
      reason: 'concurrency',
      retryAfterMs: 500,
    });
  });

  it('lets the slot of a worker that stopped renewing it lapse', async () => {
    const limiter = worker(limits, { maxWaitMs: 0 });
    const key = providerLimitKeys.scope('openai', 'k1', 'inflight');
    const [seconds] = await redis.client.time();
    await redis.client.zadd(key, Number(seconds) * 1000 + 1500, 'dead-worker:1');
    expect((await ask(limiter)).granted).toBe(false);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await ask(limiter)).granted).toBe(true);
  });

  it('keeps the slot of a long call alive by renewing it', async () => {
    const limiter = worker(limits, { maxWaitMs: 0, slotTtlMs: 600 });
    const held = await ask(limiter);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await ask(limiter)).granted).toBe(false);
    if (held.granted) held.permit.settle(0);
    await new Promise((r) => setTimeout(r, 50));
    expect((await ask(limiter)).granted).toBe(true);
  });
});

describe('start-provider-cooldown-1.lua', () => {
  it('holds every worker off an endpoint for the retry-after, and reports the start once', async () => {
    const started: [string, number, string][] = [];
    const a = worker({}, { hooks: { onCooldown: (...args) => void started.push(args) } });
    const b = worker({});
    await a.cooldown({
      provider: 'openai',
      endpoint: 'k1',
      retryAfterMs: 1500,
      reason: 'rate_limited',
    });
    const waiting = await ask(b);
    expect(waitOf(waiting)).toBeGreaterThan(1000);
    expect(waiting.granted && (await waiting.permit.coolingMs())).toBeGreaterThan(1000);
    // A shorter retry-after does not cut the running cooldown short.
    await a.cooldown({
      provider: 'openai',
      endpoint: 'k1',
      retryAfterMs: 100,
      reason: 'rate_limited',
    });
    expect(await redis.client.pttl(providerLimitKeys.cooldown('openai', 'k1'))).toBeGreaterThan(
      1000,
    );
    expect(started).toEqual([['openai', 1500, 'rate_limited']]);
  });

  it('sends calls to another key while one cools down, and refuses when all do for long', async () => {
    const limiter = worker({});
    await limiter.cooldown({
      provider: 'openai',
      endpoint: 'k1',
      retryAfterMs: 30_000,
      reason: 'overloaded',
    });
    for (let i = 0; i < 3; i++) {
      const d = await ask(limiter, { endpoints: ['k1', 'k2'] });
      expect(d.granted && d.endpoint).toBe('k2');
      if (d.granted) d.permit.settle(0);
    }
    await limiter.cooldown({ provider: 'openai', endpoint: 'k2', reason: 'rate_limited' });
    const waits = await ask(limiter, { endpoints: ['k1', 'k2'] });
    // k2's cooldown is the default second, within the wait a worker may hold.
    expect(waits.granted && waits.endpoint).toBe('k2');
    expect(waitOf(waits)).toBeGreaterThan(500);
    await limiter.cooldown({
      provider: 'openai',
      endpoint: 'k2',
      retryAfterMs: 10_000,
      reason: 'rate_limited',
    });
    expect(await ask(limiter, { endpoints: ['k1', 'k2'] })).toMatchObject({
      granted: false,
      reason: 'cooldown',
    });
  });
});

describe('without Redis', () => {
  it('lets calls through and reports the failure', async () => {
    const errors: unknown[] = [];
    const offline = new Redis({
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    offline.on('error', () => {});
    clients.push(offline);
    const limiter = new RedisCallLimiter(offline, {
      limits: {} as ProviderLimits,
      maxWaitMs: 2000,
      hooks: { onError: (e) => void errors.push(e) },
    });
    expect(await ask(limiter)).toMatchObject({ granted: true, endpoint: 'k1', waitMs: 0 });
    expect(errors.length).toBe(1);
  });
});
