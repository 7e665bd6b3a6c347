import type { RouteHandler } from '../sim-context.ts';
import { checkGeminiKey } from './gemini-auth.ts';
import { sendGeminiError, sendGoogleJson } from './gemini-errors.ts';
import { GEMINI_CONTEXT_WINDOW } from './gemini-faults.ts';

export const GEMINI_SIM_MODEL = 'tern-sim';
/** Same rules, but ignores the server's configured TTFT and ITL (headers still apply). */
export const GEMINI_SIM_FAST_MODEL = 'tern-sim-fast';

/**
 * `GET /v1beta/models`: Google's `ListModelsResponse` (fields in the API's order) with the sim's
 * two models. Any model name is served by the generate routes; these are the ones listed.
 */
export const handleListGeminiModels: RouteHandler = (exchange) => {
  const denied = checkGeminiKey(exchange.req);
  if (denied) return sendGeminiError(exchange, denied);
  sendGoogleJson(exchange.res, 200, {
    models: [GEMINI_SIM_MODEL, GEMINI_SIM_FAST_MODEL].map((id) => ({
      name: `models/${id}`,
      version: '001',
      displayName: id === GEMINI_SIM_MODEL ? 'Tern Sim' : 'Tern Sim Fast',
      description: "Tern's deterministic rule model, speaking the Gemini API.",
      inputTokenLimit: GEMINI_CONTEXT_WINDOW,
      outputTokenLimit: 65536,
      supportedGenerationMethods: ['generateContent', 'countTokens'],
      temperature: 1,
      topP: 0.95,
      topK: 64,
      maxTemperature: 2,
      thinking: true,
    })),
  });
};
