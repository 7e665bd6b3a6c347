import type { ReplyOutput } from '../reply-output.ts';
import { dialectFinish } from './openai-dialect.ts';
import { SYSTEM_FINGERPRINT } from './openai-ids.ts';
import type { StreamContext } from './openai-stream-chunks.ts';
import { usage } from './openai-usage.ts';

interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/**
 * The non-streamed `chat.completion` for a reply. As on OpenAI, `content` is null when the reply is
 * only tool calls, and `tool_calls` is absent when there are none. vLLM always sends `tool_calls`
 * (empty) and its reasoning field (null without reasoning), plus `stop_reason`.
 */
export function chatCompletion(output: ReplyOutput, ctx: Omit<StreamContext, 'includeUsage'>) {
  let text = '';
  let reasoning = '';
  const calls: ToolCall[] = [];
  for (const piece of output.pieces) {
    if (piece.type === 'text') text += piece.text;
    else if (piece.type === 'reasoning') reasoning += piece.text;
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
  const content = text === '' && calls.length > 0 ? null : text;
  const finish_reason = dialectFinish(ctx.dialect, output.finishReason);
  const tokens = usage(
    ctx.dialect,
    ctx.promptTokens,
    output.completionTokens,
    output.reasoningTokens,
  );

  if (ctx.dialect.envelope === 'vllm') {
    const message = {
      role: 'assistant',
      [ctx.dialect.reasoningField]: reasoning === '' ? null : reasoning,
      content,
      tool_calls: calls,
    };
    return {
      id: ctx.id,
      object: 'chat.completion',
      created: ctx.created,
      model: ctx.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason, stop_reason: null }],
      usage: tokens,
      prompt_logprobs: null,
    };
  }
  const message = {
    role: 'assistant',
    content,
    ...(reasoning === '' ? {} : { [ctx.dialect.reasoningField]: reasoning }),
    ...(calls.length > 0 ? { tool_calls: calls } : {}),
    refusal: null,
    annotations: [],
  };
  return {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason }],
    usage: tokens,
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}
