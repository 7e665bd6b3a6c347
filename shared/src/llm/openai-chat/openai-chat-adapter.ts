import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import type { LlmRequest } from '../llm-types.ts';
import type { WireAdapter } from '../wire-adapter.ts';
import type { ChatCompat } from './openai-chat-compat.ts';
import { openAiErrorToLlmError } from './openai-chat-error.ts';
import { toOpenAiMessages, toOpenAiTools } from './openai-chat-messages.ts';
import {
  type ChatStreamState,
  createChatState,
  endChatStream,
  translateChatChunk,
} from './openai-chat-translate.ts';

export type OpenAiChatOptions = {
  /** `openai` for OpenAI itself, `openai-compatible` for vLLM and friends. */
  provider: string;
  apiKey: string;
  baseURL?: string;
  compat: ChatCompat;
  fetch?: typeof fetch;
};

/** Chat Completions (OpenAI, vLLM and other compatible servers) through the official SDK. */
export function openAiChatAdapter(
  options: OpenAiChatOptions,
): WireAdapter<ChatCompletionChunk, ChatStreamState> {
  const baseFetch = options.fetch ?? fetch;
  const client = new OpenAI({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.compat.legacyErrorBodies
      ? { fetch: withModernErrorBodies(baseFetch) }
      : options.fetch
        ? { fetch: options.fetch }
        : {}),
    // Tern's retry policy is the only one: the SDK's own would retry behind our back.
    maxRetries: 0,
    timeout: 10 * 60_000,
  });
  const { compat } = options;
  return {
    provider: options.provider,
    async open(request, signal) {
      return client.chat.completions.create(toBody(request, compat), {
        signal,
        ...(request.headers ? { headers: request.headers } : {}),
      });
    },
    createState: (request) => createChatState(compat, request.tools),
    translate: translateChatChunk,
    end: endChatStream,
    mapError: (error) => openAiErrorToLlmError(error),
  };
}

function toBody(request: LlmRequest, compat: ChatCompat): ChatCompletionCreateParamsStreaming {
  const body: ChatCompletionCreateParamsStreaming = {
    model: request.model,
    messages: toOpenAiMessages(request.messages),
    stream: true,
  };
  if (compat.streamUsage) body.stream_options = { include_usage: true };
  if (request.tools && request.tools.length > 0) body.tools = toOpenAiTools(request.tools);
  if (request.toolChoice) {
    body.tool_choice =
      typeof request.toolChoice === 'string'
        ? request.toolChoice
        : { type: 'function', function: { name: request.toolChoice.name } };
  }
  if (request.maxTokens !== undefined) body[compat.maxTokensField] = request.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.stop) body.stop = request.stop;
  if (request.reasoningEffort && compat.reasoningEffortField) {
    body[compat.reasoningEffortField] = request.reasoningEffort;
  }
  return body;
}

/** Rewrites flat `{object:"error", …}` error bodies into `{error:{…}}`; successes pass untouched. */
function withModernErrorBodies(inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.ok) return response;
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const flat = body as { object?: unknown; error?: unknown; message?: unknown } | undefined;
    const rewritten =
      flat && flat.object === 'error' && flat.error === undefined
        ? JSON.stringify({ error: { param: null, code: null, ...flat } })
        : text;
    return new Response(rewritten, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
