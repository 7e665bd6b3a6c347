import { describe, expect, it } from 'vitest';
import {
  applyLatencyHeaders,
  batchSlowdown,
  DEFAULT_LATENCY,
  resolveLatency,
  resolveRouteLatency,
  stepOffsets,
  stepSchedule,
} from './latency.ts';
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

describe('batching model', () => {
  it('keeps one stream at the base ITL and slows each step by the streams running beside it', () => {
    const latency = resolveLatency({ itlMs: 10, batchKnee: 4 });
    expect(batchSlowdown(latency, 1)).toBe(1);
    expect(batchSlowdown(latency, 5)).toBe(2);
    let running = 1;
    const schedule = stepSchedule(latency, mulberry32(1), () => running);
    expect(schedule.dueAt(1)).toBe(10);
    running = 5;
    expect(schedule.dueAt(2)).toBe(30); // this step saw five streams
    expect(schedule.planned).toEqual([0, 10, 30]);
  });

  it('has aggregate throughput rise with concurrency and level off towards batchKnee / itl', () => {
    const latency = resolveLatency({ itlMs: 10, batchKnee: 4 });
    const throughput = (running: number) => running / (10 * batchSlowdown(latency, running));
    expect(throughput(2)).toBeGreaterThan(throughput(1));
    expect(throughput(8)).toBeGreaterThan(throughput(4));
    expect(throughput(1000)).toBeLessThan(4 / 10);
    expect(throughput(1000)).toBeGreaterThan(0.99 * (4 / 10));
  });

  it('is off by default', () => {
    expect(batchSlowdown(DEFAULT_LATENCY, 100)).toBe(1);
    expect(() => resolveLatency({ batchKnee: 0 })).toThrow(RangeError);
  });
});

describe('per-route latency and slow_drip', () => {
  it('lays each route’s own TTFT and ITL over the server’s model', () => {
    const base = resolveLatency({ ttftMs: 100, itlMs: 10, concurrency: 2 });
    const routes = resolveRouteLatency(base, { anthropic: { ttftMs: 300 } });
    expect(routes.openai).toEqual(base);
    expect(routes.anthropic).toEqual({ ...base, ttftMs: 300 });
    expect(routes.gemini.concurrency).toBe(2);
  });

  it('pauses 200 ms per piece under slow_drip, or what x-tern-sim-drip-ms says', () => {
    const base = resolveLatency({ ttftMs: 5, itlMs: 1 });
    expect(applyLatencyHeaders(base, {}, 'slow_drip')).toMatchObject({
      latency: { ttftMs: 200, itlMs: 200 },
    });
    expect(applyLatencyHeaders(base, { 'x-tern-sim-drip-ms': '30' }, 'slow_drip')).toMatchObject({
      latency: { ttftMs: 30, itlMs: 30 },
    });
    expect(applyLatencyHeaders(base, { 'x-tern-sim-drip-ms': 'x' }, 'slow_drip')).toMatchObject({
      ok: false,
      header: 'x-tern-sim-drip-ms',
    });
    // Without the fault the drip header means nothing.
    expect(applyLatencyHeaders(base, { 'x-tern-sim-drip-ms': '30' })).toEqual({
      ok: true,
      latency: base,
    });
  });
});
