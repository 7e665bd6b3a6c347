import { type PromSample, parsePrometheusText } from '@tern/shared/batch/vllm-metrics-reader';

/**
 * The simulated GPU as the batch benchmark sees it: the vLLM simulator's latency model (what it
 * can deliver at best) and its `/metrics` (what it delivered): running slots over time, and the
 * time requests waited for a slot.
 */

export type GpuModel = {
  /** Generations the server runs at once (SIM_CONCURRENCY). */
  slots: number;
  /** Continuous-batching knee (SIM_BATCH_KNEE): each step slows by (running - 1) / knee. */
  knee: number;
  itlMs: number;
  /** 0 here, so a request's time to first token is exactly its wait for a slot. */
  ttftMs: number;
};

/** How long one request of `steps` decoding steps holds its slot with `running` in the batch. */
export function serviceMs(gpu: GpuModel, steps: number, running: number): number {
  return gpu.ttftMs + (steps - 1) * gpu.itlMs * (1 + (running - 1) / gpu.knee);
}

/**
 * The most requests per minute the server can complete: every slot busy (sim/src/latency.ts).
 * Throughput `running / serviceMs(running)` rises with `running`, so the full batch is the best.
 */
export function maxRequestsPerMin(gpu: GpuModel, steps: number): number {
  return (60_000 * gpu.slots) / serviceMs(gpu, steps, gpu.slots);
}

export type GpuSnapshot = {
  /** TTFT histogram: cumulative counts by upper bound in seconds, `Infinity` last. */
  ttftBuckets: Array<{ le: number; count: number }>;
  /** Replies generated (one TTFT each) and decoding gaps (one ITL each). */
  replies: number;
  gaps: number;
};

export async function readGpu(
  simUrl: string,
): Promise<{ running: number; waiting: number; snapshot: GpuSnapshot }> {
  const samples = parsePrometheusText(await (await fetch(`${simUrl}/metrics`)).text());
  const value = (name: string) => samples.find((s) => s.name === name)?.value ?? Number.NaN;
  return {
    running: value('vllm:num_requests_running'),
    waiting: value('vllm:num_requests_waiting'),
    snapshot: {
      ttftBuckets: buckets(samples, 'vllm:time_to_first_token_seconds_bucket'),
      replies: value('vllm:time_to_first_token_seconds_count'),
      gaps: value('vllm:inter_token_latency_seconds_count'),
    },
  };
}

function buckets(samples: readonly PromSample[], name: string) {
  return samples
    .filter((s) => s.name === name)
    .map((s) => ({
      le: s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le),
      count: s.value,
    }))
    .sort((a, b) => a.le - b.le);
}

/** What happened between two snapshots. */
export function gpuDelta(before: GpuSnapshot, after: GpuSnapshot): GpuSnapshot {
  return {
    ttftBuckets: after.ttftBuckets.map((b, i) => ({
      le: b.le,
      count: b.count - (before.ttftBuckets[i]?.count ?? 0),
    })),
    replies: after.replies - before.replies,
    gaps: after.gaps - before.gaps,
  };
}

/** Decoding steps per reply, on average: one first token and one step per gap. */
export const stepsPerReply = (d: GpuSnapshot) => (d.replies > 0 ? 1 + d.gaps / d.replies : 0);

/**
 * A quantile of the time to first token, in ms, as Prometheus' histogram_quantile computes it
 * (linear inside the bucket). With a TTFT of 0 this is the time a request waited for a slot.
 */
export function ttftQuantileMs(d: GpuSnapshot, q: number): number {
  const total = d.ttftBuckets.at(-1)?.count ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of d.ttftBuckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return lowerLe * 1000;
      const inBucket = b.count - lowerCount;
      const share = inBucket === 0 ? 0 : (rank - lowerCount) / inBucket;
      return (lowerLe + (b.le - lowerLe) * share) * 1000;
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return lowerLe * 1000;
}

/** The share of replies whose time to first token exceeded `seconds` (a bucket bound). */
export function ttftShareOver(d: GpuSnapshot, seconds: number): number {
  const total = d.ttftBuckets.at(-1)?.count ?? 0;
  const within = d.ttftBuckets.find((b) => b.le >= seconds)?.count ?? total;
  return total === 0 ? Number.NaN : (total - within) / total;
}

export type GpuSample = {
  at: number;
  running: number;
  waiting: number;
  /** The dispatcher's concurrency limit and targets past its gate, when it was read. */
  limit?: number;
  inFlight?: number;
};

export type DispatcherProbe = { opsUrl: string; mode: 'adaptive' | 'fixed' };

/** The dispatcher's own view: its adaptive or fixed limit, and the targets it has in flight. */
async function readDispatcher(
  probe: DispatcherProbe,
): Promise<{ limit: number; inFlight: number }> {
  const samples = parsePrometheusText(await (await fetch(`${probe.opsUrl}/metrics`)).text());
  const limit = samples.find(
    (s) => s.name === 'tern_batch_concurrency_limit' && s.labels.mode === probe.mode,
  );
  return {
    limit: limit?.value ?? Number.NaN,
    inFlight: samples.find((s) => s.name === 'tern_batch_targets_in_flight')?.value ?? Number.NaN,
  };
}

/**
 * Samples the server's running and waiting gauges (and the dispatcher's limit and in-flight
 * targets, given its ops URL) every `everyMs` until stopped.
 */
export function sampleGpu(simUrl: string, everyMs: number, dispatcher?: DispatcherProbe) {
  const samples: GpuSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      try {
        const [{ running, waiting }, own] = await Promise.all([
          readGpu(simUrl),
          dispatcher ? readDispatcher(dispatcher).catch(() => undefined) : undefined,
        ]);
        samples.push({ at, running, waiting, ...own });
      } catch {
        // a missed sample is only a gap in the series
      }
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - at))));
    }
  })();
  return {
    samples,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
