import { sendJson, sendText } from './http-io.ts';
import { SIM_MODEL } from './openai/openai-models.ts';
import type { RouteHandler } from './sim-context.ts';

/** Liveness, shaped like vLLM's so the same probes work against either. */
export const handleHealth: RouteHandler = (exchange) => sendJson(exchange, 200, { status: 'ok' });

/** A server impersonating vLLM (its default dialect) also shows vLLM's metric names. */
export const handleMetrics: RouteHandler = (exchange) => {
  const { ctx } = exchange;
  const vllm = ctx.dialect.vllmMetrics ? { model: ctx.servedModel ?? SIM_MODEL } : undefined;
  sendText(
    exchange,
    200,
    'text/plain; version=0.0.4; charset=utf-8',
    ctx.metrics.render(ctx.slots, vllm),
  );
};
