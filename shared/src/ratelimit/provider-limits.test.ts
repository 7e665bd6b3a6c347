import { describe, expect, it } from 'vitest';
import { planCall, providerLimitsSchema } from './provider-limits.ts';

describe('provider limits', () => {
  const limits = providerLimitsSchema.parse({
    openai: {
      requestsPerMinute: 600,
      tokensPerMinute: 60_000,
      maxConcurrent: 8,
      models: { 'gpt-4.1': { requestsPerMinute: 60, requestBurst: 2 } },
    },
  });

  it('turns per-minute limits into buckets with ten seconds of burst by default', () => {
    const plan = planCall(limits.openai, 'gpt-4.1-mini', { promptTokens: 100 }, 1);
    expect(plan.buckets).toEqual([
      { scope: 'req', kind: 'requests', ratePerSec: 10, burst: 100, charge: 1 },
      { scope: 'tok', kind: 'tokens', ratePerSec: 1000, burst: 10_000, charge: 1124 },
    ]);
    expect(plan.concurrency).toEqual([{ scope: 'inflight', max: 8 }]);
    expect(plan.tokens).toBe(100 + 1024);
  });

  it("adds a model's own limits on top of the provider's", () => {
    const plan = planCall(limits.openai, 'gpt-4.1', { promptTokens: 10, maxOutputTokens: 50 }, 1);
    expect(plan.buckets.map((b) => b.scope)).toEqual(['req', 'tok', 'm:gpt-4.1:req']);
    expect(plan.buckets[2]).toMatchObject({ ratePerSec: 1, burst: 2 });
    expect(plan.tokens).toBe(60);
  });

  it('charges a call larger than the token bucket the whole bucket, never more', () => {
    const plan = planCall(limits.openai, 'x', { promptTokens: 50_000 }, 1);
    expect(plan.buckets[1]).toMatchObject({ burst: 10_000, charge: 10_000 });
  });

  it('counts calls in flight on several replicas even without a limit, to balance them', () => {
    expect(planCall(undefined, 'm', { promptTokens: 1 }, 1)).toEqual({
      buckets: [],
      concurrency: [],
      tokens: 1025,
    });
    expect(planCall(undefined, 'm', { promptTokens: 1 }, 2).concurrency).toEqual([
      { scope: 'inflight', max: 0 },
    ]);
  });

  it('refuses unknown fields and nonsense numbers', () => {
    expect(providerLimitsSchema.safeParse({ openai: { rpm: 5 } }).success).toBe(false);
    expect(providerLimitsSchema.safeParse({ openai: { requestsPerMinute: -1 } }).success).toBe(
      false,
    );
    expect(providerLimitsSchema.safeParse({ openai: { maxConcurrent: 0.5 } }).success).toBe(false);
  });
});
