import type { LlmRequest } from './llm-types.ts';

/**
 * Prompt tokens of a request before it is sent, at four characters a token (close enough for
 * English and code on today's tokenizers). Rate limits are charged this estimate up front and
 * corrected by the real usage once the call reports it.
 */
export function estimatePromptTokens(request: LlmRequest): number {
  let chars = 0;
  for (const message of request.messages) {
    if (message.role === 'assistant') {
      for (const part of message.content) {
        chars += part.type === 'tool_call' ? JSON.stringify(part.args).length : part.text.length;
      }
    } else chars += message.content.length;
  }
  for (const tool of request.tools ?? []) {
    chars += tool.name.length + tool.description.length + JSON.stringify(tool.parameters).length;
  }
  return Math.ceil(chars / 4);
}
