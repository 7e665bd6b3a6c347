import { sendJson } from '../http-io.ts';
import type { RouteHandler } from '../sim-context.ts';
import { checkAuth } from './openai-auth.ts';
import { sendDialectError } from './openai-dialect-errors.ts';
import { SIM_CONTEXT_WINDOW } from './openai-faults.ts';

export const SIM_MODEL = 'tern-sim';
/** Same rules as `tern-sim` but ignores the server's configured TTFT and ITL (headers still apply). */
export const SIM_FAST_MODEL = 'tern-sim-fast';

/** A fixed date, so the listing is byte-stable across runs. */
const CREATED = 1735689600;

/**
 * The served models: `--served-model-name` alone when set, else both sim models. A vLLM server
 * says `owned_by: "vllm"` and adds `root`, `parent` and `max_model_len` to each entry.
 */
export const handleListModels: RouteHandler = (exchange) => {
  const { ctx } = exchange;
  const denied = checkAuth(exchange.req.headers);
  if (denied) return sendDialectError(exchange, ctx.dialect, denied);
  const ids = ctx.servedModel === undefined ? [SIM_MODEL, SIM_FAST_MODEL] : [ctx.servedModel];
  const vllm = ctx.dialect.envelope === 'vllm';
  sendJson(exchange, 200, {
    object: 'list',
    data: ids.map((id) => ({
      id,
      object: 'model',
      created: CREATED,
      owned_by: vllm ? 'vllm' : 'tern',
      ...(vllm ? { root: id, parent: null, max_model_len: SIM_CONTEXT_WINDOW } : {}),
    })),
  });
};
