import OpenAI from 'openai';
import type { ChatCompletionCreateParamsStreaming } from 'openai/resources/chat/completions';
import type { FinishReason } from '../../session/log-entry.ts';
import { makeLlmError } from '../http-error-kind.ts';
import type { LlmEvent, LlmRequest, StreamFn } from '../llm-types.ts';
import { parseToolArgs } from '../tool-args.ts';
import { openAiErrorToLlmError } from './openai-chat-error.ts';
import { toOpenAiMessages, toOpenAiTools } from './openai-chat-messages.ts';

export type OpenAiChatOptions = {
  baseURL?: string;
  apiKey: string;
  /** OpenAI proper wants max_completion_tokens; most compatible servers still read max_tokens. */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  fetch?: typeof fetch;
};

type OpenCall = { id: string; name: string; args: string };

const finishReasons: Record<string, FinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
};

/** A StreamFn over the Chat Completions wire API (OpenAI, vLLM and other compatible servers). */
export function openAiChatStream(options: OpenAiChatOptions): StreamFn {
  const client = new OpenAI({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    // Tern's retry policy is the only one: the SDK's own would retry behind our back.
    maxRetries: 0,
  });
  const maxTokensField = options.maxTokensField ?? 'max_tokens';
  return (request) => streamChat(client, maxTokensField, request);
}

async function* streamChat(
  client: OpenAI,
  maxTokensField: 'max_tokens' | 'max_completion_tokens',
  request: LlmRequest,
): AsyncGenerator<LlmEvent> {
  const body: ChatCompletionCreateParamsStreaming = {
    model: request.model,
    messages: toOpenAiMessages(request.messages),
    stream: true,
    stream_options: { include_usage: true },
  };
  if (request.tools && request.tools.length > 0) body.tools = toOpenAiTools(request.tools);
  if (request.toolChoice) {
    body.tool_choice =
      typeof request.toolChoice === 'string'
        ? request.toolChoice
        : { type: 'function', function: { name: request.toolChoice.name } };
  }
  if (request.maxTokens !== undefined) body[maxTokensField] = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.stop) body.stop = request.stop;

  const calls = new Map<number, OpenCall>();
  let finish: FinishReason | undefined;
  let started = false;
  try {
    const stream = await client.chat.completions.create(body, {
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.headers ? { headers: request.headers } : {}),
    });
    for await (const chunk of stream) {
      if (!started) {
        started = true;
        yield { type: 'start', model: chunk.model || request.model };
      }
      const choice = chunk.choices[0];
      if (choice) {
        const delta = choice.delta;
        const reasoning = (delta as { reasoning_content?: string | null }).reasoning_content;
        if (reasoning) yield { type: 'reasoning_delta', text: reasoning };
        if (delta.content) yield { type: 'text_delta', text: delta.content };
        for (const toolDelta of delta.tool_calls ?? []) {
          let call = calls.get(toolDelta.index);
          if (!call) {
            call = {
              id: toolDelta.id ?? `call_${toolDelta.index}_${Date.now().toString(36)}`,
              name: toolDelta.function?.name ?? '',
              args: '',
            };
            calls.set(toolDelta.index, call);
            yield { type: 'tool_call_start', id: call.id, name: call.name };
          }
          const fragment = toolDelta.function?.arguments;
          if (fragment) {
            call.args += fragment;
            yield { type: 'tool_call_delta', id: call.id, argsText: fragment };
          }
        }
        if (choice.finish_reason) finish = finishReasons[choice.finish_reason] ?? 'stop';
      }
      if (chunk.usage) {
        yield {
          type: 'usage',
          usage: {
            input: chunk.usage.prompt_tokens,
            output: chunk.usage.completion_tokens,
            cached: chunk.usage.prompt_tokens_details?.cached_tokens ?? 0,
            reasoning: chunk.usage.completion_tokens_details?.reasoning_tokens ?? 0,
            costUsd: 0,
          },
        };
      }
    }
  } catch (error) {
    if (!started) yield { type: 'start', model: request.model };
    const llmError = openAiErrorToLlmError(error, request.signal);
    yield {
      type: 'finish',
      reason: llmError.kind === 'aborted' ? 'aborted' : 'error',
      error: llmError,
    };
    return;
  }
  if (!started) yield { type: 'start', model: request.model };
  if (finish === undefined) {
    // A stream that ends without a finish reason was cut: its content cannot be trusted whole.
    yield {
      type: 'finish',
      reason: 'error',
      error: makeLlmError('network', 'the stream ended without a finish reason'),
    };
    return;
  }
  for (const call of calls.values()) {
    yield {
      type: 'tool_call_end',
      id: call.id,
      name: call.name,
      rawArgs: call.args,
      parsed: parseToolArgs(call.args),
    };
  }
  // Some servers (vLLM parsers among them) report "stop" although the model called a tool.
  yield { type: 'finish', reason: calls.size > 0 && finish === 'stop' ? 'tool_calls' : finish };
}
