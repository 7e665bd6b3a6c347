import type { ServerResponse } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';

export { Registry };

/** Every Tern metric name starts with this, the Node.js process metrics included. */
export const METRIC_PREFIX = 'tern_';

/**
 * How often the event loop lag is sampled. prom-client's default (10 ms) wakes every process 100
 * times a second, which on a lightly loaded api or gateway cost as much CPU as all of its
 * metrics and spans together (issue 9's overhead bench); ten samples a second still catch every
 * stall a dashboard shows.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The registry of one process: an instance, never prom-client's global one, so that several
 * roles (or tests) in one process keep their series apart. Process metrics (CPU, memory, event
 * loop lag, GC) are collected into it under the same prefix.
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({
    register: registry,
    prefix: METRIC_PREFIX,
    eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
  });
  return registry;
}

/** Writes the registry in Prometheus's text format, for a `GET /metrics`. */
export async function writeMetrics(registry: Registry, res: ServerResponse): Promise<void> {
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType }).end(body);
  } catch (error) {
    // A collector that failed (Redis away while sampling the queue) must not hide the others
    // for long, but a half-written exposition would be worse than none.
    res
      .writeHead(503, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: { code: 'metrics_unavailable', message: String(error) } }));
  }
}

/**
 * A label whose values come from users (model names, proposed tools' names): the first `max`
 * distinct values are kept, later ones read `other`, so a label can never grow without bound.
 * Values named up front are always kept.
 */
export class BoundedLabel {
  readonly #seen: Set<string>;
  readonly #max: number;

  constructor(max: number, known: readonly string[] = []) {
    this.#seen = new Set(known);
    this.#max = max + known.length;
  }

  value(raw: string): string {
    if (this.#seen.has(raw)) return raw;
    if (this.#seen.size >= this.#max) return 'other';
    this.#seen.add(raw);
    return raw;
  }
}

/**
 * Histogram buckets per quantity, in seconds or bytes: each spans what the quantity really takes,
 * with most resolution where alerts and dashboards look.
 */
export const buckets = {
  /** Time to first token: tens of ms on a local server, many seconds on a loaded provider. */
  ttft: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
  /** A whole model call, up to the default LLM_TIMEOUT_MS of five minutes. */
  modelCall: [0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160, 300, 600],
  /** Tools: a file read takes a millisecond, a test suite under bash minutes. */
  tool: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 600],
  /** Hooks have a one-second budget by default. */
  hook: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  /** A turn: one quick answer to an hour of agent work. */
  turn: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
  /** Model calls per turn, up to MAX_STEPS_PER_TURN's default of 25 and beyond. */
  steps: [1, 2, 3, 4, 6, 8, 12, 16, 25, 50, 100],
  /** From enqueue to a worker starting the job. */
  queueWait: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  /** Redis and blob store round trips: a commit or an event publish. */
  storeOp: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  /** One commit's segment: a few hundred bytes to megabytes of tool output. */
  commitBytes: [256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304],
  /** Entries in a session's log when a turn ends. */
  logEntries: [10, 30, 100, 300, 1000, 3000, 10_000, 30_000],
  /** From an event entering Redis to a gateway emitting it. */
  relayLag: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  /** Waiting for a provider's rate limit or cooldown. */
  providerWait: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
  /** API requests (not the turns they start). */
  http: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
} as const;

/** prom-client wants mutable arrays. */
export const bucketsOf = (name: keyof typeof buckets): number[] => [...buckets[name]];
