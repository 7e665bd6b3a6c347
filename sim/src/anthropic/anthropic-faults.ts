import type { SimFault } from '../faults.ts';
import {
  type AnthropicErrorObject,
  type AnthropicErrorResponse,
  invalidRequest,
  OVERLOADED,
} from './anthropic-errors.ts';

/**
 * What each simulated fault looks like on Anthropic's wire, one row per fault name. Error rows
 * copy the real API's status, headers and body; the rest are behaviours the route carries out.
 */
export type AnthropicFaultAction =
  /** The normal reply (plan-level and pacing faults were applied before the table is read). */
  | { kind: 'reply' }
  | { kind: 'respond'; response: AnthropicErrorResponse }
  /** Start the reply, then end the connection part-way. */
  | { kind: 'cut' }
  /** Accept the request and never answer, until the client gives up. */
  | { kind: 'hang' }
  /** HTTP 200 and a few pieces, then `event: error`; non-streamed requests get `fallback`. */
  | { kind: 'stream_error'; error: AnthropicErrorObject; fallback: AnthropicErrorResponse };

export interface FaultContext {
  model: string;
  promptTokens: number;
}

/** The context window the `context_overflow` fault reports (Claude's standard 200k). */
export const SIM_CONTEXT_WINDOW = 200_000;

export const ANTHROPIC_FAULTS: Record<SimFault, (ctx: FaultContext) => AnthropicFaultAction> = {
  rate_limit: () => ({ kind: 'respond', response: rateLimited() }),
  server_error: () => ({
    kind: 'respond',
    response: { status: 500, error: { type: 'api_error', message: 'Internal server error' } },
  }),
  // The SDK has a class for 503 (ServiceUnavailableError) but no body type of its own, so the
  // generic `api_error` goes with it.
  unavailable: () => ({
    kind: 'respond',
    response: { status: 503, error: { type: 'api_error', message: 'Service unavailable' } },
  }),
  overloaded: () => ({ kind: 'respond', response: { status: 529, error: OVERLOADED } }),
  // The reported size stays above the window even for small prompts, so a client that parses the
  // two numbers out of the message sees a consistent overflow.
  context_overflow: ({ promptTokens }) => ({
    kind: 'respond',
    response: invalidRequest(
      `prompt is too long: ${Math.max(promptTokens, SIM_CONTEXT_WINDOW + 10_000)} tokens > ${SIM_CONTEXT_WINDOW} maximum`,
    ),
  }),
  cut: () => ({ kind: 'cut' }),
  hang: () => ({ kind: 'hang' }),
  stream_error: () => ({
    kind: 'stream_error',
    error: OVERLOADED,
    fallback: { status: 529, error: OVERLOADED },
  }),
  // The tool input is cut in the plan (fault-plan.ts); the stream then ends normally with
  // `tool_use`, as Anthropic would, and only parsing reveals the damage.
  truncated_tool_json: () => ({ kind: 'reply' }),
  // The pause is applied with the latency headers.
  slow_drip: () => ({ kind: 'reply' }),
};

/** Anthropic's 429: `retry-after` in seconds plus the `anthropic-ratelimit-*` family. */
function rateLimited(): AnthropicErrorResponse {
  const reset = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000).toISOString();
  const resetAt = reset.replace(/\.\d{3}Z$/, 'Z');
  return {
    status: 429,
    headers: {
      'retry-after': '1',
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': resetAt,
      'anthropic-ratelimit-tokens-limit': '50000',
      'anthropic-ratelimit-tokens-remaining': '0',
      'anthropic-ratelimit-tokens-reset': resetAt,
      'anthropic-ratelimit-input-tokens-limit': '40000',
      'anthropic-ratelimit-input-tokens-remaining': '0',
      'anthropic-ratelimit-input-tokens-reset': resetAt,
      'anthropic-ratelimit-output-tokens-limit': '10000',
      'anthropic-ratelimit-output-tokens-remaining': '0',
      'anthropic-ratelimit-output-tokens-reset': resetAt,
    },
    error: {
      type: 'rate_limit_error',
      message:
        'This request would exceed the rate limit for your organization (ternsim) of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.',
    },
  };
}
