import type { IncomingHttpHeaders } from 'node:http';
import { FAULT_HEADER } from './faults.ts';
import { sendJson } from './http-io.ts';
import type { RouteHandler } from './sim-context.ts';

/** One request as the simulator saw it; times are wall-clock ms (`Date.now()`). */
export interface LoggedRequest {
  /** The route's pattern, e.g. `/v1/chat/completions`, or `unmatched`. */
  route: string;
  /** When the request arrived. */
  at: number;
  /** When the response ended, with its status (or `aborted`); absent while it runs. */
  endedAt?: number;
  status?: string;
  /** The fault the request asked for in its header, if any. */
  fault?: string;
}

export interface RequestLog {
  started(route: string, headers: IncomingHttpHeaders): LoggedRequest;
  ended(entry: LoggedRequest, status: string): void;
  list(): readonly LoggedRequest[];
}

/**
 * Every request the server received, oldest first, for tests that check what a client cluster
 * really sent (a rate limit across workers, the spread over replicas). The newest `capacity`
 * are kept.
 */
export function createRequestLog(capacity = 20_000): RequestLog {
  let entries: LoggedRequest[] = [];
  return {
    started(route, headers) {
      const fault = headers[FAULT_HEADER];
      const entry: LoggedRequest = { route, at: Date.now() };
      if (typeof fault === 'string') entry.fault = fault;
      entries.push(entry);
      if (entries.length > capacity * 2) entries = entries.slice(-capacity);
      return entry;
    },
    ended(entry, status) {
      entry.endedAt = Date.now();
      entry.status = status;
    },
    list: () => entries.slice(-capacity),
  };
}

/** `GET /sim/requests`: the request log, oldest first. */
export const handleRequestLog: RouteHandler = (exchange) =>
  sendJson(exchange, 200, { requests: exchange.ctx.requests.list() });
