import type { SimFault } from '../faults.ts';
import {
  type GeminiErrorResponse,
  googleError,
  internalError,
  invalidArgument,
} from './gemini-errors.ts';

/**
 * What each simulated fault looks like on the Gemini API, one row per fault. Error rows copy the
 * real status, `status` string, message and details; the other rows are behaviours the route
 * carries out.
 */
export type GeminiFaultAction =
  | { kind: 'respond'; response: GeminiErrorResponse }
  /** Start the reply, then end the connection part-way. */
  | { kind: 'cut' }
  /** Accept the request and never answer. */
  | { kind: 'hang' }
  /**
   * HTTP 200, part of the stream, then Google's in-stream error event (`data: {"error": …}`) and a
   * clean end; unstreamed, the error is the whole answer.
   */
  | { kind: 'stream_error'; response: GeminiErrorResponse }
  /**
   * Already applied wire-neutrally, to the plan (`truncated_tool_json`: Gemini cannot send a call
   * with broken JSON, so the draft turns it into `MALFORMED_FUNCTION_CALL`) or to the latency
   * (`slow_drip`): reply as usual.
   */
  | { kind: 'reply' };

export interface GeminiFaultContext {
  model: string;
  promptTokens: number;
}

/** Gemini 2.x and 3 input window, as the API states it in overflow errors. */
export const GEMINI_CONTEXT_WINDOW = 1_048_576;

const OVERLOADED = () =>
  ({
    kind: 'respond',
    response: googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
  }) as const;

export const GEMINI_FAULTS: Record<SimFault, (ctx: GeminiFaultContext) => GeminiFaultAction> = {
  rate_limit: ({ model }) => ({
    kind: 'respond',
    response: googleError(
      429,
      'RESOURCE_EXHAUSTED',
      `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/usage?tab=rate-limit. \n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: ${model}\nPlease retry in 1s.`,
      [
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [
            {
              quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
              quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
              quotaDimensions: { location: 'global', model },
              quotaValue: '10',
            },
          ],
        },
        {
          '@type': 'type.googleapis.com/google.rpc.Help',
          links: [
            {
              description: 'Learn more about Gemini API quotas',
              url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
            },
          ],
        },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' },
      ],
    ),
  }),
  server_error: () => ({ kind: 'respond', response: internalError() }),
  unavailable: OVERLOADED,
  overloaded: OVERLOADED,
  // The reported count is kept above the window even for small prompts, so a client that parses
  // both numbers sees a consistent overflow.
  context_overflow: ({ promptTokens }) => ({
    kind: 'respond',
    response: invalidArgument(
      `The input token count (${Math.max(promptTokens, GEMINI_CONTEXT_WINDOW + 1)}) exceeds the maximum number of tokens allowed (${GEMINI_CONTEXT_WINDOW}).`,
    ),
  }),
  cut: () => ({ kind: 'cut' }),
  hang: () => ({ kind: 'hang' }),
  stream_error: () => ({ kind: 'stream_error', response: internalError() }),
  truncated_tool_json: () => ({ kind: 'reply' }),
  slow_drip: () => ({ kind: 'reply' }),
};
