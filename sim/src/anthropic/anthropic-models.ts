import { handleListModels, SIM_FAST_MODEL, SIM_MODEL } from '../openai/openai-models.ts';
import type { RouteHandler } from '../sim-context.ts';
import { checkAnthropicHeaders } from './anthropic-auth.ts';
import { asAnthropicExchange, sendAnthropicError, sendAnthropicJson } from './anthropic-errors.ts';

/** A fixed date, so the listing is byte-stable across runs. */
const CREATED_AT = '2025-01-01T00:00:00Z';
const DISPLAY_NAMES: Record<string, string> = {
  [SIM_MODEL]: 'Tern Sim',
  [SIM_FAST_MODEL]: 'Tern Sim Fast',
};

/** `GET /v1/models` in Anthropic's list shape (one page: `has_more` is always false). */
export const handleAnthropicModels: RouteHandler = (raw) => {
  const exchange = asAnthropicExchange(raw);
  const denied = checkAnthropicHeaders(exchange.req.headers);
  if (denied) return sendAnthropicError(exchange, denied);
  const ids = [SIM_MODEL, SIM_FAST_MODEL];
  sendAnthropicJson(exchange, 200, {
    data: ids.map((id) => ({
      type: 'model',
      id,
      display_name: DISPLAY_NAMES[id],
      created_at: CREATED_AT,
    })),
    has_more: false,
    first_id: ids[0],
    last_id: ids.at(-1),
  });
};

/**
 * Both dialects list models at the same path; the Anthropic SDK always sends `anthropic-version`
 * and the OpenAI one never does, so that header picks the answer's shape.
 */
export const handleModels: RouteHandler = (exchange) =>
  exchange.req.headers['anthropic-version'] === undefined
    ? handleListModels(exchange)
    : handleAnthropicModels(exchange);
