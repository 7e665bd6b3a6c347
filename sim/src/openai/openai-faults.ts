import type { SimFault } from '../faults.ts';
import {
  invalidRequest,
  type OpenAiErrorResponse,
  openAiError,
  serverError,
} from './openai-errors.ts';

/**
 * What each simulated fault looks like on OpenAI's wire, one row per fault. Error rows copy the real
 * API's status, headers and body; `cut` and `hang` are behaviours the route carries out.
 */
export type FaultAction =
  | { kind: 'respond'; response: OpenAiErrorResponse }
  /** Start the reply, then destroy the socket part-way. */
  | { kind: 'cut' }
  /** Accept the request and never answer, until the client gives up. */
  | { kind: 'hang' };

export interface FaultContext {
  model: string;
  promptTokens: number;
}

/** The context window the `context_overflow` fault reports. */
export const SIM_CONTEXT_WINDOW = 8192;

export const OPENAI_FAULTS: Record<SimFault, (ctx: FaultContext) => FaultAction> = {
  rate_limit: ({ model }) => ({
    kind: 'respond',
    response: {
      status: 429,
      headers: {
        'retry-after': '1',
        'retry-after-ms': '1000',
        'x-ratelimit-limit-requests': '500',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '1s',
      },
      body: openAiError(
        `Rate limit reached for ${model} in organization org-ternsim on tokens per min (TPM): Limit 30000, Used 30000, Requested 1. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        'tokens',
        null,
        'rate_limit_exceeded',
      ),
    },
  }),
  server_error: () => ({ kind: 'respond', response: { status: 500, body: serverError() } }),
  unavailable: () => ({
    kind: 'respond',
    response: {
      status: 503,
      body: openAiError('The server is overloaded or not ready yet.', 'server_error'),
    },
  }),
  // The reported size is kept above the window even for small prompts, so a client that parses the
  // two numbers out of the message sees a consistent overflow.
  context_overflow: ({ promptTokens }) => ({
    kind: 'respond',
    response: {
      status: 400,
      body: invalidRequest(
        `This model's maximum context length is ${SIM_CONTEXT_WINDOW} tokens. However, your messages resulted in ${Math.max(promptTokens, SIM_CONTEXT_WINDOW + 1)} tokens. Please reduce the length of the messages.`,
        'messages',
        'context_length_exceeded',
      ),
    },
  }),
  cut: () => ({ kind: 'cut' }),
  hang: () => ({ kind: 'hang' }),
};
