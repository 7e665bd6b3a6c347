import type { IncomingHttpHeaders } from 'node:http';
import type { Random } from './random.ts';

/**
 * How long the simulated model takes, shaped like a GPU inference server: time to first token,
 * inter-token latency, multiplicative jitter, and a cap on concurrent generations beyond which
 * requests wait in a FIFO queue.
 */
export interface LatencyModel {
  ttftMs: number;
  itlMs: number;
  /** 0..1: each delay is drawn uniformly from `ms × [1 - jitter, 1 + jitter]`. */
  jitter: number;
  /** Maximum concurrent generations; `Infinity` means no queue. */
  concurrency: number;
}

export const DEFAULT_LATENCY: LatencyModel = {
  ttftMs: 0,
  itlMs: 0,
  jitter: 0,
  concurrency: Number.POSITIVE_INFINITY,
};

export const TTFT_HEADER = 'x-tern-sim-ttft-ms';
export const ITL_HEADER = 'x-tern-sim-itl-ms';

export function resolveLatency(partial: Partial<LatencyModel> = {}): LatencyModel {
  const latency = { ...DEFAULT_LATENCY, ...partial };
  if (!(latency.ttftMs >= 0) || !(latency.itlMs >= 0)) {
    throw new RangeError('latency ttftMs and itlMs must be >= 0');
  }
  if (!(latency.jitter >= 0 && latency.jitter <= 1))
    throw new RangeError('latency jitter must be in 0..1');
  if (!(latency.concurrency >= 1)) throw new RangeError('latency concurrency must be >= 1');
  return latency;
}

export type LatencyOverride =
  | { ok: true; latency: LatencyModel }
  | { ok: false; header: string; message: string };

/** Applies the per-request header overrides; a malformed value is the caller's error, not ignored. */
export function applyLatencyHeaders(
  base: LatencyModel,
  headers: IncomingHttpHeaders,
): LatencyOverride {
  const latency = { ...base };
  for (const [header, key] of [
    [TTFT_HEADER, 'ttftMs'],
    [ITL_HEADER, 'itlMs'],
  ] as const) {
    const raw = headers[header];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !(value >= 0) || !Number.isFinite(value)) {
      return {
        ok: false,
        header,
        message: `Invalid '${header}' header: expected a number of milliseconds >= 0.`,
      };
    }
    latency[key] = value;
  }
  return { ok: true, latency };
}

/**
 * When each decoding step is due, in milliseconds after generation starts: step 0 (the first token)
 * after the TTFT, each later step one inter-token latency after the previous one.
 */
export function stepOffsets(latency: LatencyModel, steps: number, random: Random): number[] {
  const offsets = new Array<number>(Math.max(steps, 1));
  let at = jittered(latency.ttftMs, latency.jitter, random);
  offsets[0] = at;
  for (let step = 1; step < steps; step++) {
    at += jittered(latency.itlMs, latency.jitter, random);
    offsets[step] = at;
  }
  return offsets;
}

function jittered(ms: number, jitter: number, random: Random): number {
  if (ms === 0 || jitter === 0) return ms;
  return ms * (1 + jitter * (2 * random() - 1));
}
