import type { SimFault } from '../faults.ts';
import type { OpenAiDialect } from './openai-dialect.ts';
import {
  invalidRequest,
  type OpenAiErrorResponse,
  openAiError,
  serverError,
} from './openai-errors.ts';

/**
 * What each simulated fault looks like on OpenAI's wire, one row per fault. Error rows copy the real
 * API's status, headers and body (the dialect reshapes bodies afterwards); the other kinds are
 * behaviours the route carries out.
 */
export type FaultAction =
  | { kind: 'respond'; response: OpenAiErrorResponse }
  /** Start the reply, then destroy the socket part-way. */
  | { kind: 'cut' }
  /** Accept the request and never answer, until the client gives up. */
  | { kind: 'hang' }
  /** HTTP 200 and a few chunks, then this error inside the stream (as the response, unstreamed). */
  | { kind: 'stream_error'; response: OpenAiErrorResponse }
  /** Already applied to the plan or the latency, wire-neutrally: reply as usual. */
  | { kind: 'reply' };

export interface FaultContext {
  model: string;
  promptTokens: number;
  maxTokens: number | undefined;
  dialect: OpenAiDialect;
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
  overloaded: () => ({
    kind: 'respond',
    response: {
      status: 503,
      headers: { 'retry-after': '1' },
      body: openAiError(
        'The engine is currently overloaded, please try again later',
        'server_error',
      ),
    },
  }),
  context_overflow: (ctx) => ({
    kind: 'respond',
    response: {
      status: 400,
      body:
        ctx.dialect.contextOverflowStyle === 'vllm'
          ? vllmContextOverflow(ctx)
          : openAiOverflow(ctx),
    },
  }),
  cut: () => ({ kind: 'cut' }),
  hang: () => ({ kind: 'hang' }),
  stream_error: () => ({ kind: 'stream_error', response: { status: 500, body: serverError() } }),
  truncated_tool_json: () => ({ kind: 'reply' }),
  slow_drip: () => ({ kind: 'reply' }),
};

// The reported sizes are kept above the window even for small prompts, so a client that parses
// the numbers out of the message sees a consistent overflow.

function openAiOverflow({ promptTokens }: FaultContext) {
  return invalidRequest(
    `This model's maximum context length is ${SIM_CONTEXT_WINDOW} tokens. However, your messages resulted in ${Math.max(promptTokens, SIM_CONTEXT_WINDOW + 1)} tokens. Please reduce the length of the messages.`,
    'messages',
    'context_length_exceeded',
  );
}

/** vLLM's two wordings (`_validate_input`), with and without `max_tokens`; no code, no param. */
function vllmContextOverflow({ promptTokens, maxTokens }: FaultContext) {
  if (maxTokens === undefined) {
    const prompt = Math.max(promptTokens, SIM_CONTEXT_WINDOW + 1);
    return invalidRequest(
      `This model's maximum context length is ${SIM_CONTEXT_WINDOW} tokens. However, you requested ${prompt} tokens in the messages, Please reduce the length of the messages.`,
    );
  }
  const prompt = Math.max(promptTokens, SIM_CONTEXT_WINDOW + 1 - maxTokens, 1);
  return invalidRequest(
    `This model's maximum context length is ${SIM_CONTEXT_WINDOW} tokens. However, you requested ${prompt + maxTokens} tokens (${prompt} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
  );
}
