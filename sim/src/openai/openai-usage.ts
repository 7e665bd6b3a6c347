import type { OpenAiDialect } from './openai-dialect.ts';

/**
 * The usage object. OpenAI always sends the detail blocks (zeros but for reasoning here); vLLM
 * sends the three counts only, so its reasoning tokens are invisible to clients, as on real vLLM.
 */
export function usage(
  dialect: OpenAiDialect,
  promptTokens: number,
  completionTokens: number,
  reasoningTokens: number,
) {
  if (dialect.envelope === 'vllm') {
    return {
      prompt_tokens: promptTokens,
      total_tokens: promptTokens + completionTokens,
      completion_tokens: completionTokens,
    };
  }
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}
