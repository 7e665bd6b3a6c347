import type { IncomingHttpHeaders } from 'node:http';
import type { SimFault } from './faults.ts';
import type { Random } from './random.ts';

/**
 * How long the simulated model takes, shaped like a GPU inference server: time to first token,
 * inter-token latency, multiplicative jitter, a cap on concurrent generations beyond which
 * requests wait in a FIFO queue, and a batching slowdown.
 */
export interface LatencyModel {
  ttftMs: number;
  itlMs: number;
  /** 0..1: each delay is drawn uniformly from `ms × [1 - jitter, 1 + jitter]`. */
  jitter: number;
  /** Maximum concurrent generations; `Infinity` means no queue. */
  concurrency: number;
  /**
   * Continuous batching: each step of a stream takes `itlMs × (1 + (running - 1) / batchKnee)`,
   * `running` being the generations holding a slot when the step starts. One stream alone keeps
   * `itlMs`; aggregate throughput `running / itl` rises with concurrency and flattens towards
   * `batchKnee / itlMs` tokens per ms, and past `concurrency` requests queue. `Infinity` (the
   * default) turns the slowdown off.
   */
  batchKnee: number;
  /**
   * KV-cache size in tokens, shared by running generations (each holds its prompt and the steps
   * generated so far): a request waits until its prompt fits, and `vllm:kv_cache_usage_perc`
   * reports the share in use. `Infinity` (the default) never limits and reads as 0.
   */
  kvCacheTokens: number;
}

/** The parts of the model a route may set for itself; slots and batching belong to the server. */
export type RouteLatency = Partial<Pick<LatencyModel, 'ttftMs' | 'itlMs' | 'jitter'>>;

export const SIM_ROUTES = ['openai', 'anthropic', 'gemini'] as const;
export type SimRoute = (typeof SIM_ROUTES)[number];

export const DEFAULT_LATENCY: LatencyModel = {
  ttftMs: 0,
  itlMs: 0,
  jitter: 0,
  concurrency: Number.POSITIVE_INFINITY,
  batchKnee: Number.POSITIVE_INFINITY,
  kvCacheTokens: Number.POSITIVE_INFINITY,
};

export const TTFT_HEADER = 'x-tern-sim-ttft-ms';
export const ITL_HEADER = 'x-tern-sim-itl-ms';
/** The pause between pieces under the `slow_drip` fault. */
export const DRIP_HEADER = 'x-tern-sim-drip-ms';
export const DEFAULT_DRIP_MS = 200;

export function resolveLatency(partial: Partial<LatencyModel> = {}): LatencyModel {
  const latency = { ...DEFAULT_LATENCY, ...partial };
  if (!(latency.ttftMs >= 0) || !(latency.itlMs >= 0)) {
    throw new RangeError('latency ttftMs and itlMs must be >= 0');
  }
  if (!(latency.jitter >= 0 && latency.jitter <= 1))
    throw new RangeError('latency jitter must be in 0..1');
  if (!(latency.concurrency >= 1)) throw new RangeError('latency concurrency must be >= 1');
  if (!(latency.batchKnee > 0)) throw new RangeError('latency batchKnee must be > 0');
  if (!(latency.kvCacheTokens > 0)) throw new RangeError('latency kvCacheTokens must be > 0');
  return latency;
}

/** Each route's model: the server's, with the route's own TTFT, ITL and jitter laid over it. */
export function resolveRouteLatency(
  base: LatencyModel,
  byRoute: Partial<Record<SimRoute, RouteLatency>> = {},
): Record<SimRoute, LatencyModel> {
  const entries = SIM_ROUTES.map((route) => [
    route,
    resolveLatency({ ...base, ...byRoute[route] }),
  ]);
  return Object.fromEntries(entries) as Record<SimRoute, LatencyModel>;
}

export type LatencyOverride =
  | { ok: true; latency: LatencyModel }
  | { ok: false; header: string; message: string };

/**
 * Applies the per-request header overrides, then the `slow_drip` fault's pause; a malformed value
 * is the caller's error, not ignored.
 */
export function applyLatencyHeaders(
  base: LatencyModel,
  headers: IncomingHttpHeaders,
  fault?: SimFault,
): LatencyOverride {
  const latency = { ...base };
  for (const [header, key] of [
    [TTFT_HEADER, 'ttftMs'],
    [ITL_HEADER, 'itlMs'],
  ] as const) {
    const value = msHeader(headers, header);
    if (value === null) return badMs(header);
    if (value !== undefined) latency[key] = value;
  }
  if (fault === 'slow_drip') {
    const drip = msHeader(headers, DRIP_HEADER);
    if (drip === null) return badMs(DRIP_HEADER);
    const pause = drip ?? DEFAULT_DRIP_MS;
    latency.ttftMs = Math.max(latency.ttftMs, pause);
    latency.itlMs = pause;
    latency.batchKnee = Number.POSITIVE_INFINITY;
  }
  return { ok: true, latency };
}

/** undefined when absent, null when malformed. */
function msHeader(headers: IncomingHttpHeaders, header: string): number | undefined | null {
  const raw = headers[header];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !(value >= 0) || !Number.isFinite(value)) {
    return null;
  }
  return value;
}

function badMs(header: string): LatencyOverride {
  return {
    ok: false,
    header,
    message: `Invalid '${header}' header: expected a number of milliseconds >= 0.`,
  };
}

/**
 * When each decoding step is due, in milliseconds after generation starts: step 0 (the first token)
 * after the TTFT, each later step one inter-token latency after the previous one. Steps are
 * computed on first use, in order, so a step's latency sees how many streams run at that moment,
 * and the jitter draws come in the same order whatever the timing.
 */
export interface StepSchedule {
  dueAt(step: number): number;
  /** The steps computed so far. */
  readonly planned: readonly number[];
}

export function stepSchedule(
  latency: LatencyModel,
  random: Random,
  running: () => number = () => 1,
): StepSchedule {
  const planned: number[] = [];
  return {
    planned,
    dueAt(step) {
      while (planned.length <= step) {
        const previous = planned.at(-1);
        planned.push(
          previous === undefined
            ? jittered(latency.ttftMs, latency.jitter, random)
            : previous +
                jittered(latency.itlMs * batchSlowdown(latency, running()), latency.jitter, random),
        );
      }
      return planned[step]!;
    },
  };
}

/** The ITL multiplier with `running` streams in the batch (see `LatencyModel.batchKnee`). */
export function batchSlowdown(latency: LatencyModel, running: number): number {
  return 1 + Math.max(running - 1, 0) / latency.batchKnee;
}

/** The whole schedule of a `steps`-step reply, for one stream alone. */
export function stepOffsets(latency: LatencyModel, steps: number, random: Random): number[] {
  const schedule = stepSchedule(latency, random);
  schedule.dueAt(Math.max(steps, 1) - 1);
  return [...schedule.planned];
}

function jittered(ms: number, jitter: number, random: Random): number {
  if (ms === 0 || jitter === 0) return ms;
  return ms * (1 + jitter * (2 * random() - 1));
}
