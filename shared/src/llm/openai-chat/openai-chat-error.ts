import { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import {
  contextLimitFromMessage,
  kindFromStatus,
  makeLlmError,
  retryAfterFromHeaders,
} from '../http-error-kind.ts';
import type { LlmError } from '../llm-types.ts';

/** Maps whatever the OpenAI SDK threw (before or inside the stream) to Tern's taxonomy. */
export function openAiErrorToLlmError(error: unknown, signal?: AbortSignal): LlmError {
  if (error instanceof APIUserAbortError || signal?.aborted) {
    return makeLlmError('aborted', 'the request was aborted');
  }
  if (error instanceof APIConnectionTimeoutError) return makeLlmError('timeout', error.message);
  if (error instanceof APIError) {
    const message = error.message;
    if (error.status === undefined) {
      // Thrown for an `error` object inside a 200 stream, or a connection failure.
      const code: unknown = error.code ?? error.type;
      // vLLM puts the HTTP status in `code` (a number); OpenAI a string such as "server_error".
      if (typeof code === 'number') {
        const kind = isContextOverflow('', message) ? 'context_overflow' : kindFromStatus(code);
        const contextLimit =
          kind === 'context_overflow' ? contextLimitFromMessage(message) : undefined;
        return makeLlmError(kind, message, contextLimit ? { contextLimit } : {});
      }
      if (typeof code === 'string' && code !== '') return fromCode(code, message);
      return makeLlmError('network', message);
    }
    const headers = error.headers;
    const retryAfterMs = headers ? retryAfterFromHeaders((n) => headers.get(n)) : undefined;
    const fromBody = String(error.code ?? error.type ?? '');
    const kind = isContextOverflow(fromBody, message)
      ? 'context_overflow'
      : kindFromStatus(error.status);
    const contextLimit = kind === 'context_overflow' ? contextLimitFromMessage(message) : undefined;
    return makeLlmError(kind, message, {
      status: error.status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(contextLimit === undefined ? {} : { contextLimit }),
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return makeLlmError('network', message);
}

function isContextOverflow(code: string, message: string): boolean {
  return code === 'context_length_exceeded' || /maximum context length/i.test(message);
}

function fromCode(code: string, message: string): LlmError {
  if (isContextOverflow(code, message)) {
    const contextLimit = contextLimitFromMessage(message);
    return makeLlmError('context_overflow', message, contextLimit ? { contextLimit } : {});
  }
  if (/rate_limit/.test(code)) return makeLlmError('rate_limited', message);
  if (/overloaded/.test(code)) return makeLlmError('overloaded', message);
  if (/server_error|internal/.test(code)) return makeLlmError('server', message);
  return makeLlmError('server', message);
}
