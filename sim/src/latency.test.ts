import { describe, expect, it } from 'vitest';
import { applyLatencyHeaders, DEFAULT_LATENCY, resolveLatency, stepOffsets } from './latency.ts';
import { mulberry32 } from './random.ts';

describe('stepOffsets', () => {
  it('puts the first token at the TTFT and each next one an ITL later', () => {
    const latency = resolveLatency({ ttftMs: 100, itlMs: 10 });
    expect(stepOffsets(latency, 4, mulberry32(1))).toEqual([100, 110, 120, 130]);
  });

  it('is all zeros with the default model, so nothing waits on a timer', () => {
    expect(stepOffsets(DEFAULT_LATENCY, 3, mulberry32(1))).toEqual([0, 0, 0]);
  });

  it('jitters each delay within ±jitter, reproducibly for a seed', () => {
    const latency = resolveLatency({ ttftMs: 100, itlMs: 10, jitter: 0.5 });
    const a = stepOffsets(latency, 50, mulberry32(42));
    expect(stepOffsets(latency, 50, mulberry32(42))).toEqual(a);
    expect(a[0]).toBeGreaterThanOrEqual(50);
    expect(a[0]).toBeLessThanOrEqual(150);
    for (let i = 1; i < a.length; i++) {
      const gap = a[i]! - a[i - 1]!;
      expect(gap).toBeGreaterThanOrEqual(5);
      expect(gap).toBeLessThanOrEqual(15);
    }
    expect(new Set(a.slice(1).map((x, i) => x - a[i]!)).size).toBeGreaterThan(1);
  });
});

describe('latency configuration', () => {
  it('rejects impossible values', () => {
    expect(() => resolveLatency({ jitter: 2 })).toThrow(RangeError);
    expect(() => resolveLatency({ concurrency: 0 })).toThrow(RangeError);
    expect(() => resolveLatency({ ttftMs: -1 })).toThrow(RangeError);
  });

  it('lets request headers override TTFT and ITL', () => {
    const result = applyLatencyHeaders(DEFAULT_LATENCY, {
      'x-tern-sim-ttft-ms': '250',
      'x-tern-sim-itl-ms': '12.5',
    });
    expect(result).toEqual({ ok: true, latency: { ...DEFAULT_LATENCY, ttftMs: 250, itlMs: 12.5 } });
    expect(applyLatencyHeaders(DEFAULT_LATENCY, { 'x-tern-sim-ttft-ms': '-3' })).toMatchObject({
      ok: false,
      header: 'x-tern-sim-ttft-ms',
    });
  });
});
