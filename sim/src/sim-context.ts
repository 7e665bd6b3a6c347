import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimFault } from './faults.ts';
import type { LatencyModel, SimRoute } from './latency.ts';
import type { SimMetrics } from './metrics.ts';
import type { OpenAiDialect } from './openai/openai-dialect.ts';
import type { Random } from './random.ts';
import type { RequestLog } from './request-log.ts';
import type { Scenario } from './scenario.ts';
import type { SlotQueue } from './slot-queue.ts';

/** The state of one simulator instance, handed to every route. */
export interface SimContext {
  /** The server-wide model: its `concurrency` and `batchKnee` apply to every route together. */
  latency: LatencyModel;
  /** Each wire's TTFT, ITL and jitter (the server's, unless `latencyByRoute` set its own). */
  routeLatency: Readonly<Record<SimRoute, LatencyModel>>;
  seed: number;
  /** Fault applied to requests that do not name one in their header. */
  fault: SimFault | undefined;
  slots: SlotQueue;
  metrics: SimMetrics;
  /** Every request received, with its arrival time and status (`GET /sim/requests`). */
  requests: RequestLog;
  /** Server-wide seeded generator for response and request ids. */
  random: Random;
  /** The OpenAI-compatible route's dialect for requests without `x-tern-sim-dialect`. */
  dialect: OpenAiDialect;
  /** Scripted scenarios by name, selected with `x-tern-sim-scenario`; mutable at runtime. */
  scenarios: Map<string, Scenario>;
  /**
   * The one model name served, as vLLM's `--served-model-name`: listed alone by `/v1/models`, and
   * any other name is a 404. Unset, every model name is accepted.
   */
  servedModel: string | undefined;
}

/** One request as a route sees it. `signal` aborts when the connection ends before the response. */
export interface SimExchange {
  req: IncomingMessage;
  res: ServerResponse;
  ctx: SimContext;
  requestId: string;
  signal: AbortSignal;
}

export type RouteHandler = (exchange: SimExchange) => void | Promise<void>;
