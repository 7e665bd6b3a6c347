/**
 * What an OpenAI-compatible endpoint accepts and how it names things. Endpoints differ in data,
 * not in code paths: the adapter reads these fields and never branches on a vendor's name.
 */
export type ChatCompat = {
  /** OpenAI's newer models want `max_completion_tokens`; most compatible servers read `max_tokens`. */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  /** Whether `stream_options.include_usage` is accepted. */
  streamUsage: boolean;
  /** How reasoning effort is sent, if at all. */
  reasoningEffortField?: 'reasoning_effort';
  /** Delta fields that carry reasoning text, in order of preference. */
  reasoningDeltaFields: readonly string[];
  /** Recover `<tool_call>{…}</tool_call>` blocks a failed server-side parser left in the text. */
  recoverLeakedToolCalls: boolean;
  /**
   * Error bodies may come in vLLM's older flat shape `{object:"error", message, type, code}`,
   * which the official SDK does not read (it sees "no body"); such bodies are rewritten to the
   * `{error:{…}}` shape before the SDK parses them.
   */
  legacyErrorBodies: boolean;
};

export const chatCompatProfiles = {
  openai: {
    maxTokensField: 'max_completion_tokens',
    streamUsage: true,
    reasoningEffortField: 'reasoning_effort',
    reasoningDeltaFields: [],
    recoverLeakedToolCalls: false,
    legacyErrorBodies: false,
  },
  vllm: {
    maxTokensField: 'max_tokens',
    streamUsage: true,
    reasoningDeltaFields: ['reasoning_content', 'reasoning'],
    recoverLeakedToolCalls: true,
    legacyErrorBodies: true,
  },
  generic: {
    maxTokensField: 'max_tokens',
    streamUsage: false,
    reasoningDeltaFields: ['reasoning_content', 'reasoning'],
    recoverLeakedToolCalls: false,
    legacyErrorBodies: true,
  },
} as const satisfies Record<string, ChatCompat>;

export type ChatCompatName = keyof typeof chatCompatProfiles;
