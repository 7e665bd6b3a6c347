import { setTimeout as sleep } from 'node:timers/promises';
import { AdaptiveConcurrency } from '@tern/shared/batch/adaptive-concurrency';
import { parsePrometheusText, readVllmLoad } from '@tern/shared/batch/vllm-metrics-reader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimProcess, startSimProcess } from '../helpers/sim-process.ts';

// The adaptive concurrency controller driving real requests at the vLLM simulator in its own
// process: a batching server with 16 slots whose steps slow as the batch grows (batchKnee 32), so
// throughput rises with concurrency up to 16 and queueing adds nothing past it. Throughput is
// judged as the simulated GPU delivers it: the latency model's rate at the batch sizes sampled
// from /metrics, against its rate with every slot busy; wall-clock rates, which a loaded machine
// skews, only back that up loosely. No figure is an absolute time.

const SLOTS = 16;
const WARMUP_MS = 1500;
const SAMPLE_MS = 100;

type Run = {
  /** Completed requests per second after the warm-up. */
  throughput: number;
  /** Mean share of the server's slots in use after the warm-up. */
  utilisation: number;
  /** Batch sizes sampled after the warm-up. */
  running: number[];
  maxWaiting: number;
  meanWaiting: number;
  meanKv: number;
  limits: number[];
};

const TTFT_MS = 50;
const ITL_MS = 10;
const KNEE = 32;
const LATENCY = {
  SIM_DIALECT: 'vllm',
  SIM_BATCH_KNEE: String(KNEE),
  SIM_TTFT_MS: String(TTFT_MS),
  SIM_ITL_MS: String(ITL_MS),
};

/** Requests per ms the simulated GPU completes with `running` in its batch (sim/src/latency.ts). */
const modelRate = (running: number, steps: number) =>
  running / (TTFT_MS + (steps - 1) * ITL_MS * (1 + (running - 1) / KNEE));

/** Steps per reply, from the server's own histograms: one TTFT and steps - 1 gaps each. */
async function stepsPerReply(server: SimProcess): Promise<number> {
  const samples = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
  const count = (name: string) => samples.find((s) => s.name === name)?.value ?? Number.NaN;
  return (
    1 +
    count('vllm:inter_token_latency_seconds_count') /
      count('vllm:time_to_first_token_seconds_count')
  );
}
let sim: SimProcess;
/** The same server with 64 slots but a KV cache that holds about a dozen of these requests. */
let kvBound: SimProcess;
beforeAll(async () => {
  [sim, kvBound] = await Promise.all([
    startSimProcess({ ...LATENCY, SIM_CONCURRENCY: String(SLOTS) }),
    startSimProcess({ ...LATENCY, SIM_CONCURRENCY: '64', SIM_KV_CACHE_TOKENS: '720' }),
  ]);
});
afterAll(async () => {
  await Promise.all([sim?.stop(), kvBound?.stop()]);
});

async function oneRequest(url: string): Promise<void> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'tern-sim',
      stream: true,
      messages: [{ role: 'user', content: 'write a test for add' }],
    }),
  });
  if (!response.ok) throw new Error(`request failed: ${response.status}`);
  await response.text();
}

/**
 * Keeps `limit` requests in flight for `durationMs`, sampling the server's metrics every
 * `SAMPLE_MS`; with a controller, each sample also sets the limit.
 */
async function drive(
  durationMs: number,
  fixed: number | AdaptiveConcurrency,
  server: SimProcess = sim,
): Promise<Run> {
  const controller = typeof fixed === 'number' ? undefined : fixed;
  let limit = controller ? controller.limit : (fixed as number);
  let inFlight = 0;
  let stopping = false;
  const started = performance.now();
  const done: number[] = [];
  const failures: unknown[] = [];
  const pending = new Set<Promise<void>>();
  const launch = () => {
    while (!stopping && inFlight < limit) {
      inFlight++;
      const request: Promise<void> = oneRequest(server.url)
        .then(
          () => {
            done.push(performance.now() - started);
          },
          (error: unknown) => {
            failures.push(error);
          },
        )
        .finally(() => {
          inFlight--;
          pending.delete(request);
          launch();
        });
      pending.add(request);
    }
  };
  launch();
  const samples: Array<{ at: number; running: number; waiting: number; kvCacheUsage: number }> = [];
  const limits: number[] = [limit];
  while (performance.now() - started < durationMs) {
    await sleep(SAMPLE_MS);
    const read = await readVllmLoad(server.url);
    if (!read.ok) throw new Error(`metrics missing: ${read.missing.join(', ')}`);
    samples.push({ at: performance.now() - started, ...read.load });
    if (controller) {
      limit = controller.update({ ...read.load, inFlight }).limit;
      limits.push(limit);
      launch();
    }
  }
  const measured = performance.now() - started - WARMUP_MS;
  stopping = true;
  await Promise.all(pending);
  expect(failures).toEqual([]);
  const steady = samples.filter((s) => s.at >= WARMUP_MS);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    throughput:
      done.filter((t) => t >= WARMUP_MS && t <= WARMUP_MS + measured).length / (measured / 1000),
    utilisation: mean(steady.map((s) => s.running)) / SLOTS,
    running: steady.map((s) => s.running),
    maxWaiting: Math.max(...samples.map((s) => s.waiting)),
    meanWaiting: mean(steady.map((s) => s.waiting)),
    meanKv: mean(steady.map((s) => s.kvCacheUsage)),
    limits,
  };
}

describe('adaptive concurrency against the vLLM simulator', () => {
  it('reaches at least 90% of the simulator’s maximum throughput, where a fixed 2 underuses it', async () => {
    // The best any fixed setting can do is one request per slot, all the time.
    const best = await drive(7000, SLOTS);
    const two = await drive(5000, 2);
    const adaptive = await drive(9000, new AdaptiveConcurrency({ max: 256 }));
    const steps = await stepsPerReply(sim);
    const max = modelRate(SLOTS, steps);
    const share = (run: Run) =>
      run.running.reduce((n, r) => n + modelRate(r, steps), 0) / run.running.length / max;
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    console.info(
      `simulated throughput (share of max ${(1000 * max).toFixed(1)} req/s at ${steps.toFixed(1)} steps): fixed ${SLOTS} ${pct(share(best))}, fixed 2 ${pct(share(two))}, adaptive ${pct(share(adaptive))}; wall-clock req/s: ${best.throughput.toFixed(1)} / ${two.throughput.toFixed(1)} / ${adaptive.throughput.toFixed(1)} (${pct(adaptive.throughput / best.throughput)}); utilisation ${pct(best.utilisation)} / ${pct(two.utilisation)} / ${pct(adaptive.utilisation)}; adaptive waiting max ${adaptive.maxWaiting}, mean ${adaptive.meanWaiting.toFixed(2)}; limits ${adaptive.limits.slice(0, 12).join(' ')} … ${adaptive.limits.at(-1)}`,
    );
    expect(share(adaptive)).toBeGreaterThanOrEqual(0.9);
    expect(share(two)).toBeLessThan(0.5);
    expect(adaptive.throughput).toBeGreaterThanOrEqual(0.7 * best.throughput);
    expect(two.throughput).toBeLessThan(0.5 * best.throughput);
    // The queue stays bounded: discovery overshoots once, then nothing waits for long.
    expect(adaptive.maxWaiting).toBeLessThanOrEqual(SLOTS / 2);
    expect(adaptive.meanWaiting).toBeLessThan(1);
    // And it settles under the slot count, leaving headroom for interactive requests.
    expect(adaptive.limits.at(-1)).toBe(SLOTS - 1);
  });

  it('backs off to what the KV cache admits when it, not the slots, binds, keeping the queue short', async () => {
    // A fixed 64 fills the cache and leaves most of its requests waiting for room in it.
    const flooded = await drive(6000, 64, kvBound);
    const adaptive = await drive(8000, new AdaptiveConcurrency({ max: 256 }), kvBound);
    console.info(
      `KV-bound: fixed 64 ${flooded.throughput.toFixed(1)} req/s, KV ${(100 * flooded.meanKv).toFixed(0)}%, waiting ${flooded.meanWaiting.toFixed(1)}; adaptive ${adaptive.throughput.toFixed(1)} req/s (${((100 * adaptive.throughput) / flooded.throughput).toFixed(1)}%), KV ${(100 * adaptive.meanKv).toFixed(0)}%, waiting ${adaptive.meanWaiting.toFixed(2)}; limits ${adaptive.limits.slice(0, 10).join(' ')} … ${adaptive.limits.at(-1)}`,
    );
    expect(flooded.meanWaiting).toBeGreaterThan(20);
    expect(adaptive.meanWaiting).toBeLessThan(1);
    expect(adaptive.throughput).toBeGreaterThanOrEqual(0.7 * flooded.throughput);
  });
});
