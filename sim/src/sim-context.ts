import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimFault } from './faults.ts';
import type { LatencyModel } from './latency.ts';
import type { SimMetrics } from './metrics.ts';
import type { Random } from './random.ts';
import type { SlotQueue } from './slot-queue.ts';

/** The state of one simulator instance, handed to every route. */
export interface SimContext {
  latency: LatencyModel;
  seed: number;
  /** Fault applied to requests that do not name one in their header. */
  fault: SimFault | undefined;
  slots: SlotQueue;
  metrics: SimMetrics;
  /** Server-wide seeded generator for response and request ids. */
  random: Random;
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
