import { describe, expect, it } from 'vitest';
import {
  AdaptiveConcurrency,
  type AdaptiveConcurrencyOptions,
  adaptConcurrency,
  type ConcurrencySample,
  type ConcurrencyState,
  initialConcurrencyState,
} from './adaptive-concurrency.ts';

const options: AdaptiveConcurrencyOptions = { max: 100 };
const sample = (s: Partial<ConcurrencySample>): ConcurrencySample => ({
  running: 0,
  waiting: 0,
  kvCacheUsage: 0.1,
  inFlight: 0,
  ...s,
});
const state = (s: Partial<ConcurrencyState>): ConcurrencyState => ({
  ...initialConcurrencyState(options),
  ...s,
});

describe('discovery', () => {
  it('starts at 4 and grows by half while the server runs every request and we fill the limit', () => {
    const controller = new AdaptiveConcurrency(options);
    const limits = [controller.limit];
    for (let i = 0; i < 4; i++) {
      const limit = controller.limit;
      limits.push(controller.update(sample({ running: limit, inFlight: limit })).limit);
    }
    expect(limits).toEqual([4, 6, 9, 14, 21]);
  });

  it('does not grow a limit it does not use', () => {
    const decision = adaptConcurrency(
      state({ limit: 10 }),
      sample({ running: 3, inFlight: 3 }),
      options,
    );
    expect(decision).toMatchObject({ limit: 10, reason: 'app_limited' });
  });

  it('never exceeds the configured max, nor falls below min', () => {
    const small = { max: 5, min: 2 };
    const up = adaptConcurrency(state({ limit: 4 }), sample({ running: 4, inFlight: 4 }), small);
    expect(up.limit).toBe(5);
    const down = adaptConcurrency(
      state({ limit: 5 }),
      sample({ running: 1, waiting: 40, inFlight: 5 }),
      small,
    );
    expect(down.limit).toBe(2);
    expect(() => initialConcurrencyState({ max: 0 })).toThrow(RangeError);
  });
});

describe('backing off', () => {
  it('drops straight to the capacity it saw, less the headroom, when our requests queue', () => {
    // 19 of ours on a server that runs 16: 3 wait. Capacity 16, reserve max(1, 5% of 16) = 1.
    const decision = adaptConcurrency(
      state({ limit: 19 }),
      sample({ running: 16, waiting: 3, inFlight: 19, kvCacheUsage: 0.5 }),
      options,
    );
    expect(decision).toMatchObject({
      limit: 15,
      reason: 'queueing',
      state: { capacity: 16, discovering: false },
    });
  });

  it('believes one or two waiting requests only when they are still there at the next sample', () => {
    const at = state({ limit: 17, capacity: undefined, discovering: false });
    const busy = sample({ running: 16, waiting: 1, inFlight: 17 });
    const first = adaptConcurrency(at, busy, options);
    expect(first).toMatchObject({ limit: 17, reason: 'queue_seen' });
    expect(adaptConcurrency(first.state, busy, options)).toMatchObject({
      limit: 15,
      reason: 'queueing',
    });
    // Gone at the next sample: a request caught between arrival and scheduling, not a full server.
    const gone = adaptConcurrency(first.state, sample({ running: 17, inFlight: 17 }), options);
    expect(gone.reason).toBe('grow');
  });

  it('follows the KV cache’s room down as sequences grow, and up as they shrink', () => {
    const full = adaptConcurrency(
      state({ limit: 40, discovering: false, capacity: 64 }),
      sample({ running: 40, inFlight: 40, kvCacheUsage: 0.99 }),
      options,
    );
    // Room: floor(40 × 0.9 / 0.99) = 36 requests; reserve max(1, ceil(1.8)) = 2.
    expect(full).toMatchObject({ limit: 34, reason: 'over_ceiling', capacity: 36 });
    expect(full.state.capacity).toBe(64); // the slots did not change
    const roomy = adaptConcurrency(
      full.state,
      sample({ running: 34, inFlight: 34, kvCacheUsage: 0.45 }),
      options,
    );
    // Room 68 > 64 slots: the slots bind again (64 - 4 = 60), so growth resumes.
    expect(roomy).toMatchObject({ limit: 35, reason: 'grow', capacity: 64 });
  });

  it('keeps the slot estimate when requests wait because the cache, not the slots, is full', () => {
    const decision = adaptConcurrency(
      state({ limit: 30, discovering: false, capacity: 64 }),
      sample({ running: 30, waiting: 10, inFlight: 40, kvCacheUsage: 0.95 }),
      options,
    );
    // floor(30 × 0.9 / 0.95) = 28 - reserve 2 = 26.
    expect(decision).toMatchObject({ limit: 26, reason: 'queueing', state: { capacity: 64 } });
  });

  it('ignores an impossible sample', () => {
    const decision = adaptConcurrency(
      state({ limit: 8 }),
      sample({ running: Number.NaN, inFlight: 8 }),
      options,
    );
    expect(decision).toMatchObject({ limit: 8, reason: 'bad_sample' });
  });
});

describe('headroom for interactive traffic', () => {
  it('leaves the slots others use, plus the reserve, out of our share', () => {
    // Capacity 32 known; 5 interactive requests run beside our 20.
    const decision = adaptConcurrency(
      state({ limit: 20, discovering: false, capacity: 32 }),
      sample({ running: 25, inFlight: 20 }),
      options,
    );
    // 32 - reserve 2 - others 5 = 25: room to grow by one.
    expect(decision).toMatchObject({ limit: 21, reason: 'grow', others: 5 });
  });

  it('shrinks our share when interactive requests queue behind the batch', () => {
    const decision = adaptConcurrency(
      state({ limit: 30, discovering: false, capacity: 32 }),
      sample({ running: 32, waiting: 6, inFlight: 30 }),
      options,
    );
    // others = 32 + 6 - 30 = 8; 32 - 2 - 8 = 22.
    expect(decision).toMatchObject({ limit: 22, reason: 'queueing', others: 8 });
  });

  it('grows back once the interactive requests are gone', () => {
    let s = state({ limit: 22, discovering: false, capacity: 32 });
    for (let i = 0; i < 10; i++) {
      s = adaptConcurrency(s, sample({ running: s.limit, inFlight: s.limit }), options).state;
    }
    expect(s.limit).toBe(30);
  });
});

describe('rediscovery', () => {
  it('drops the slot estimate after a calm spell at the ceiling and creeps up by one', () => {
    const o = { ...options, rediscoverAfter: 3 };
    let s = state({ limit: 15, discovering: false, capacity: 16 });
    const reasons: string[] = [];
    for (let i = 0; i < 5; i++) {
      const d = adaptConcurrency(s, sample({ running: s.limit, inFlight: s.limit }), o);
      reasons.push(d.reason);
      s = d.state;
    }
    expect(reasons).toEqual(['at_ceiling', 'at_ceiling', 'rediscover', 'grow', 'grow']);
    expect(s).toMatchObject({ limit: 17, capacity: undefined, discovering: false });
  });
});

/**
 * A deterministic batching server: at most `capacity` requests run, each for `duration` ticks;
 * the rest wait in FIFO order. Our driver keeps the controller's limit in flight and samples the
 * server every tick.
 */
function simulate(
  capacity: number,
  duration: number,
  ticks: number,
  o: AdaptiveConcurrencyOptions,
  interactive: (tick: number) => number = () => 0,
) {
  const controller = new AdaptiveConcurrency(o);
  let running: Array<{ ours: boolean; left: number }> = [];
  const waiting: Array<{ ours: boolean }> = [];
  let inFlight = 0;
  let completed = 0;
  const trace: Array<{ limit: number; running: number; waiting: number }> = [];
  for (let tick = 0; tick < ticks; tick++) {
    while (inFlight < controller.limit) {
      waiting.push({ ours: true });
      inFlight++;
    }
    for (let i = 0; i < interactive(tick); i++) waiting.push({ ours: false });
    while (running.length < capacity && waiting.length > 0) {
      running.push({ ...waiting.shift()!, left: duration });
    }
    const load = { running: running.length, waiting: waiting.length };
    trace.push({ limit: controller.limit, ...load });
    controller.update({ ...load, kvCacheUsage: 0.2, inFlight });
    for (const r of running) r.left--;
    const finished = running.filter((r) => r.left === 0 && r.ours).length;
    inFlight -= finished;
    completed += finished;
    running = running.filter((r) => r.left > 0);
  }
  return { trace, completed };
}

describe('against a batching server', () => {
  it('settles at the capacity less the reserve, with the queue bounded by the first overshoot', () => {
    const { trace } = simulate(64, 10, 600, { max: 256 });
    const settled = trace.slice(50);
    // Capacity 64, reserve ceil(3.2) = 4: 60 of ours, but for one rediscovery (300 calm samples)
    // that creeps to 65 and falls back as soon as a request waits.
    expect(Math.min(...settled.map((t) => t.limit))).toBe(60);
    expect(Math.max(...settled.map((t) => t.limit))).toBe(65);
    expect(settled.filter((t) => t.limit === 60).length).toBeGreaterThan(0.95 * settled.length);
    expect(Math.max(...trace.map((t) => t.waiting))).toBeLessThanOrEqual(8);
    const meanWaiting = settled.reduce((n, t) => n + t.waiting, 0) / settled.length;
    expect(meanWaiting).toBeLessThan(0.05);
  });

  it('completes about as much as the best fixed setting, and far more than a fixed two', () => {
    const ticks = 1000;
    const adaptive = simulate(16, 10, ticks, { max: 256 }).completed;
    const best = simulate(16, 10, ticks, { max: 16, min: 16 }).completed;
    const two = simulate(16, 10, ticks, { max: 2, min: 2 }).completed;
    expect(adaptive).toBeGreaterThanOrEqual(0.9 * best);
    expect(two).toBeLessThan(0.2 * best);
  });

  it('gives way to an interactive burst and takes the slots back after it', () => {
    // 20 interactive requests arrive at tick 200, each running 10 ticks like ours.
    const { trace } = simulate(32, 10, 400, { max: 256 }, (t) => (t === 200 ? 20 : 0));
    const before = trace[199]!.limit;
    expect(Math.min(...trace.slice(200, 230).map((t) => t.limit))).toBeLessThan(before - 10);
    expect(trace.at(-1)!.limit).toBeGreaterThanOrEqual(before - 1);
  });
});
