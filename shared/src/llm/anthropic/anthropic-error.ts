import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { kindFromStatus, makeLlmError, retryAfterFromHeaders } from '../http-error-kind.ts';
import type { LlmError, LlmErrorKind } from '../llm-types.ts';
import { StreamFailure } from '../stream-failure.ts';

/**
 * The body's `error.type` decides where it is specific; the generic `api_error` falls back to the
 * status, so a 503 reads as `overloaded` like other providers' 503s. Errors inside a 200 stream
 * have no status and are read by type alone.
 */
const kindsByType: Record<string, LlmErrorKind> = {
  authentication_error: 'auth',
  permission_error: 'permission',
  // No billing kind in Tern's taxonomy: like a permission problem, the key cannot do this.
  billing_error: 'permission',
  not_found_error: 'not_found',
  invalid_request_error: 'invalid_request',
  request_too_large: 'context_overflow',
  rate_limit_error: 'rate_limited',
  overloaded_error: 'overloaded',
  timeout_error: 'timeout',
};

/** Maps whatever the Anthropic SDK threw (before or inside the stream) to Tern's taxonomy. */
export function anthropicErrorToLlmError(error: unknown): LlmError {
  if (error instanceof StreamFailure) return error.error;
  if (error instanceof APIUserAbortError || isAbort(error)) {
    return makeLlmError('aborted', 'the request was aborted');
  }
  if (error instanceof APIConnectionTimeoutError) return makeLlmError('timeout', error.message);
  if (error instanceof APIConnectionError) return makeLlmError('network', error.message);
  if (error instanceof APIError) {
    const message = error.apiMessage ?? error.message;
    const status = error.status;
    const overflow = contextOverflow(message);
    const kind: LlmErrorKind = overflow.matched
      ? 'context_overflow'
      : ((error.type && kindsByType[error.type]) ??
        (status === undefined ? 'server' : kindFromStatus(status)));
    const headers = error.headers;
    const retryAfterMs = headers ? retryAfterFromHeaders((name) => headers.get(name)) : undefined;
    return makeLlmError(kind, message, {
      ...(status === undefined ? {} : { status }),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(overflow.limit === undefined ? {} : { contextLimit: overflow.limit }),
    });
  }
  // undici's `TypeError: terminated` and socket errors when a stream is cut mid-way.
  const message = error instanceof Error ? error.message : String(error);
  return makeLlmError('network', message);
}

/**
 * "prompt is too long: 210000 tokens > 200000 maximum", and "input length and `max_tokens`
 * exceed context limit: 188240 + 21333 > 200000, …": both name the window last.
 */
function contextOverflow(message: string): { matched: boolean; limit?: number } {
  const tooLong = /prompt is too long: \d+ tokens > (\d+) maximum/i.exec(message);
  if (tooLong) return { matched: true, limit: Number(tooLong[1]) };
  const exceeds = /exceed context limit: \d+ \+ \d+ > (\d+)/i.exec(message);
  if (exceeds) return { matched: true, limit: Number(exceeds[1]) };
  return { matched: false };
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
