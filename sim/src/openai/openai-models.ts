import { sendJson } from '../http-io.ts';
import type { RouteHandler } from '../sim-context.ts';
import { checkAuth } from './openai-auth.ts';
import { sendOpenAiError } from './openai-errors.ts';

export const SIM_MODEL = 'tern-sim';
/** Same rules as `tern-sim` but ignores the server's configured TTFT and ITL (headers still apply). */
export const SIM_FAST_MODEL = 'tern-sim-fast';

/** A fixed date, so the listing is byte-stable across runs. */
const CREATED = 1735689600;

export const handleListModels: RouteHandler = (exchange) => {
  const denied = checkAuth(exchange.req.headers);
  if (denied) return sendOpenAiError(exchange, denied);
  sendJson(exchange, 200, {
    object: 'list',
    data: [SIM_MODEL, SIM_FAST_MODEL].map((id) => ({
      id,
      object: 'model',
      created: CREATED,
      owned_by: 'tern',
    })),
  });
};
