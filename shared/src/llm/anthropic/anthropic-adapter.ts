import Anthropic, { APIUserAbortError } from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent } from '@anthropic-ai/sdk/resources/messages';
import type { WireAdapter } from '../wire-adapter.ts';
import { anthropicErrorToLlmError } from './anthropic-error.ts';
import { toAnthropicBody } from './anthropic-messages.ts';
import {
  ANTHROPIC_PROVIDER,
  type AnthropicStreamState,
  createAnthropicState,
  endAnthropicStream,
  translateAnthropicEvent,
} from './anthropic-translate.ts';

export type AnthropicOptions = {
  apiKey: string;
  baseURL?: string;
  fetch?: typeof fetch;
};

/** Anthropic Messages through the official SDK. */
export function anthropicAdapter(
  options: AnthropicOptions,
): WireAdapter<RawMessageStreamEvent, AnthropicStreamState> {
  const client = new Anthropic({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    // Tern's retry policy is the only one: the SDK's own would retry behind our back.
    maxRetries: 0,
    timeout: 10 * 60_000,
  });
  return {
    provider: ANTHROPIC_PROVIDER,
    async open(request, signal) {
      const stream = await client.messages.create(toAnthropicBody(request), {
        signal,
        ...(request.headers ? { headers: request.headers } : {}),
      });
      return abortAware(stream, signal);
    },
    createState: createAnthropicState,
    translate: translateAnthropicEvent,
    end: endAnthropicStream,
    mapError: anthropicErrorToLlmError,
  };
}

/**
 * The SDK's stream ends quietly, without throwing, when its request is aborted mid-body; that
 * would read as a stream cut short. Rethrown here as the abort it is.
 */
function abortAware<T>(stream: AsyncIterable<T>, signal: AbortSignal): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const inner = stream[Symbol.asyncIterator]();
      return {
        async next() {
          const result = await inner.next();
          if (result.done && signal.aborted) throw new APIUserAbortError();
          return result;
        },
        return: async (value?: unknown) =>
          inner.return ? inner.return(value) : { done: true as const, value: undefined },
      };
    },
  };
}
