import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import { decisionOf, retryAfterSeconds, UserRateLimit } from './user-rate-limit.ts';

describe('retryAfterSeconds', () => {
  it('rounds up to whole seconds and never says 0', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(59_500)).toBe(60);
  });
});

describe('decisionOf', () => {
  it("reads the script's reply", () => {
    expect(decisionOf([1, 4, 0])).toEqual({ allowed: true, remaining: 4 });
    expect(decisionOf([0, 0, 250])).toEqual({ allowed: false, remaining: 0, retryAfterMs: 250 });
  });
});

describe('UserRateLimit (user-rate-limit-1.lua)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const takeN = async (limit: UserRateLimit, user: string, n: number) => {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await limit.take(user));
    return out;
  };

  it('lets a burst through, then refuses with the time until the next token', async () => {
    // One token a minute: nothing refills during the test.
    const limit = new UserRateLimit(redis.client, { perSecond: 1 / 60, burst: 3 });
    const decisions = await takeN(limit, 'usr_burst', 4);
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
    const refused = decisions[3];
    expect(refused?.allowed === false && refused.retryAfterMs).toBeGreaterThan(50_000);
    expect(refused?.allowed === false && refused.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('is one bucket per user across clients, and users do not share it', async () => {
    const second = redis.client.duplicate();
    try {
      const settings = { perSecond: 1 / 60, burst: 2 };
      const a = new UserRateLimit(redis.client, settings);
      const b = new UserRateLimit(second, settings);
      expect((await a.take('usr_shared')).allowed).toBe(true);
      expect((await b.take('usr_shared')).allowed).toBe(true);
      expect((await a.take('usr_shared')).allowed).toBe(false);
      expect((await b.take('usr_shared')).allowed).toBe(false);
      expect((await b.take('usr_other')).allowed).toBe(true);
    } finally {
      second.disconnect();
    }
  });

  it('refills at the configured rate', async () => {
    const limit = new UserRateLimit(redis.client, { perSecond: 50, burst: 1 });
    expect((await limit.take('usr_refill')).allowed).toBe(true);
    const refused = await limit.take('usr_refill');
    if (refused.allowed) throw new Error('the second request should wait for a refill');
    expect(refused.retryAfterMs).toBeLessThanOrEqual(20);
    await new Promise((r) => setTimeout(r, refused.retryAfterMs + 5));
    expect((await limit.take('usr_refill')).allowed).toBe(true);
  });

  it('lets everything through when the rate is 0, without touching Redis', async () => {
    const limit = new UserRateLimit(redis.client, { perSecond: 0, burst: 1 });
    const decisions = await takeN(limit, 'usr_unlimited', 5);
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(await redis.client.keys('*usr_unlimited*')).toEqual([]);
  });

  it('expires a bucket once it would be full again', async () => {
    const limit = new UserRateLimit(redis.client, { perSecond: 10, burst: 5 });
    await limit.take('usr_ttl');
    const ttl = await redis.client.pttl('tern:{rate:usr_ttl}:api');
    // One token to refill at 10/s (100 ms) plus the script's 1 s margin.
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1100);
  });
});
