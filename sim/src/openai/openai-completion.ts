import type { ReplyOutput } from '../reply-output.ts';
import { SYSTEM_FINGERPRINT } from './openai-ids.ts';
import type { StreamContext } from './openai-stream-chunks.ts';
import { usage } from './openai-usage.ts';

/**
 * The non-streamed `chat.completion` for a reply. As on OpenAI, `content` is null when the reply is
 * only tool calls, and `tool_calls` is absent when there are none.
 */
export function chatCompletion(output: ReplyOutput, ctx: Omit<StreamContext, 'includeUsage'>) {
  let text = '';
  const calls: { id: string; type: 'function'; function: { name: string; arguments: string } }[] =
    [];
  for (const piece of output.pieces) {
    if (piece.type === 'text') text += piece.text;
    else if (piece.type === 'tool_call_start') {
      calls[piece.index] = {
        id: ctx.toolCallIds[piece.index] ?? '',
        type: 'function',
        function: { name: piece.name, arguments: '' },
      };
    } else {
      const call = calls[piece.index];
      if (call) call.function.arguments += piece.text;
    }
  }
  const message = {
    role: 'assistant',
    content: text === '' && calls.length > 0 ? null : text,
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
    refusal: null,
    annotations: [],
  };
  return {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: output.finishReason }],
    usage: usage(ctx.promptTokens, output.completionTokens),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}
