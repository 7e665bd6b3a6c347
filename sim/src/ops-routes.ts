import { sendJson, sendText } from './http-io.ts';
import type { RouteHandler } from './sim-context.ts';

/** Liveness, shaped like vLLM's so the same probes work against either. */
export const handleHealth: RouteHandler = (exchange) => sendJson(exchange, 200, { status: 'ok' });

export const handleMetrics: RouteHandler = (exchange) =>
  sendText(
    exchange,
    200,
    'text/plain; version=0.0.4; charset=utf-8',
    exchange.ctx.metrics.render(exchange.ctx.slots),
  );
