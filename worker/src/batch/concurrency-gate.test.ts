import type { VllmLoadRead } from '@tern/shared/batch/vllm-metrics-reader';
import { describe, expect, it } from 'vitest';
import { BatchGates, FIXED_WITHOUT_METRICS } from './batch-gates.ts';
import { ConcurrencyGate, type GateSlot } from './concurrency-gate.ts';

/** Settles every promise callback queued so far. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyGate', () => {
  it('lets `limit` holders through and the next in arrival order as slots come back', async () => {
    const gate = new ConcurrencyGate(2);
    const a = await gate.acquire();
    await gate.acquire();
    const order: string[] = [];
    const inOrder = (name: string) => (slot: GateSlot) => {
      order.push(name);
      return slot;
    };
    const c = gate.acquire().then(inOrder('c'));
    const d = gate.acquire().then(inOrder('d'));
    await settle();
    expect(order).toEqual([]);
    expect(gate.waiting).toBe(2);
    a.release();
    a.release(); // a second release gives nothing back
    await settle();
    expect(order).toEqual(['c']);
    expect(gate.held).toBe(2);
    (await c).release();
    await d;
    expect(order).toEqual(['c', 'd']);
  });

  it('holds waiters back after the limit drops until enough slots returned', async () => {
    const gate = new ConcurrencyGate(3);
    const held: GateSlot[] = [await gate.acquire(), await gate.acquire(), await gate.acquire()];
    gate.setLimit(1);
    let got = false;
    const next = gate.acquire().then(() => {
      got = true;
    });
    held[0]!.release();
    held[1]!.release();
    await settle();
    expect(got).toBe(false);
    held[2]!.release();
    await next;
    expect(gate.held).toBe(1);
  });

  it('lets waiters in at once when the limit rises', async () => {
    const gate = new ConcurrencyGate(1);
    await gate.acquire();
    const waiting = [gate.acquire(), gate.acquire()];
    gate.setLimit(3);
    await Promise.all(waiting);
    expect(gate.held).toBe(3);
  });

  it('drops an aborted waiter without giving it a slot', async () => {
    const gate = new ConcurrencyGate(1);
    const first = await gate.acquire();
    const abort = new AbortController();
    const cancelled = gate.acquire(abort.signal);
    const next = gate.acquire();
    abort.abort(new Error('batch cancelled'));
    await expect(cancelled).rejects.toThrow('batch cancelled');
    first.release();
    await next;
    expect(gate.held).toBe(1);
    expect(gate.waiting).toBe(0);
  });
});

describe('BatchGates', () => {
  const load = (running: number, waiting: number, kvCacheUsage = 0.2): VllmLoadRead => ({
    ok: true,
    load: { running, waiting, kvCacheUsage, kvMetric: 'vllm:kv_cache_usage_perc' },
  });

  it('gives a batch with a number a gate of that size, never above the dispatcher’s maximum', () => {
    const gates = new BatchGates({ maxTargets: 10, pollMs: 60_000 });
    expect(gates.gateFor({ batchId: 'bat_a', concurrency: 4 }).limit).toBe(4);
    expect(gates.gateFor({ batchId: 'bat_b', concurrency: 64 }).limit).toBe(10);
    expect(gates.gateFor({ batchId: 'bat_a', concurrency: 4 })).toBe(
      gates.gateFor({ batchId: 'bat_a', concurrency: 4 }),
    );
    // `auto` with no server to sample: the fixed size, under the same ceiling.
    expect(gates.gateFor({ batchId: 'bat_c', concurrency: 'auto' }).limit).toBe(10);
    const roomy = new BatchGates({ maxTargets: 256, pollMs: 60_000 });
    expect(roomy.gateFor({ batchId: 'bat_c', concurrency: 'auto' }).limit).toBe(
      FIXED_WITHOUT_METRICS,
    );
    gates.close();
  });

  it('shares one adaptive gate per server and grows it while the server has room', async () => {
    let reads = 0;
    const gates = new BatchGates({
      maxTargets: 256,
      pollMs: 60_000,
      readLoad: async (): Promise<VllmLoadRead> => {
        reads += 1;
        return load(gate.held, 0);
      },
    });
    const url = 'http://gpu:8000/v1';
    const gate: ConcurrencyGate = gates.gateFor({
      batchId: 'bat_a',
      concurrency: 'auto',
      metricsUrl: url,
    });
    expect(gates.gateFor({ batchId: 'bat_b', concurrency: 'auto', metricsUrl: url })).toBe(gate);
    const adaptive = gates.adaptive(url)!;

    await adaptive.sample();
    expect(reads).toBe(0); // idle: the server is not asked
    const start = gate.limit;
    for (let i = 0; i < start; i++) await gate.acquire();
    await adaptive.sample();
    expect(reads).toBe(1);
    expect(gate.limit).toBeGreaterThan(start);
    gates.close();
  });

  it('backs the adaptive limit off to what the server runs when requests queue there', async () => {
    let server = load(0, 0);
    const url = 'http://gpu:8000';
    const gates = new BatchGates({ maxTargets: 256, pollMs: 60_000, readLoad: async () => server });
    const gate = gates.gateFor({ batchId: 'bat_a', concurrency: 'auto', metricsUrl: url });
    const adaptive = gates.adaptive(url)!;
    const slots: GateSlot[] = [];
    for (let round = 0; round < 6; round++) {
      while (gate.held < gate.limit) slots.push(await gate.acquire());
      server = load(gate.held, 0);
      await adaptive.sample();
    }
    const grown = gate.limit;
    expect(grown).toBeGreaterThan(20);
    server = load(20, grown - 20 + 5);
    await adaptive.sample();
    expect(gate.limit).toBeLessThanOrEqual(20);
    gates.close();
  });

  it('falls back to a fixed size for a server without vLLM’s gauges, and says so once', async () => {
    const notes: string[] = [];
    const url = 'http://other:8000';
    const gates = new BatchGates({
      maxTargets: 256,
      pollMs: 60_000,
      readLoad: async () => ({ ok: false, missing: ['vllm:num_requests_running'] }),
      onNote: (_url, note) => notes.push(note),
    });
    const gate = gates.gateFor({ batchId: 'bat_a', concurrency: 'auto', metricsUrl: url });
    await gate.acquire();
    await gates.adaptive(url)!.sample();
    await gates.adaptive(url)!.sample();
    expect(gate.limit).toBe(FIXED_WITHOUT_METRICS);
    expect(notes).toEqual(['no_metrics']);
    gates.close();
  });

  it('keeps the limit while the server is unreachable', async () => {
    const url = 'http://gone:8000';
    const gates = new BatchGates({
      maxTargets: 256,
      pollMs: 60_000,
      readLoad: async () => {
        throw new Error('ECONNREFUSED');
      },
    });
    const gate = gates.gateFor({ batchId: 'bat_a', concurrency: 'auto', metricsUrl: url });
    const before = gate.limit;
    await gate.acquire();
    await gates.adaptive(url)!.sample();
    expect(gate.limit).toBe(before);
    gates.close();
  });
});
