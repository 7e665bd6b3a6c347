import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { makeLlmError } from '../http-error-kind.ts';
import { StreamFailure } from '../stream-failure.ts';
import { anthropicErrorToLlmError } from './anthropic-error.ts';

/** An error as the SDK builds it from an HTTP response (class picked by status). */
function httpError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
) {
  return APIError.generate(
    status,
    { type: 'error', error: { type, message }, request_id: 'req_1' },
    undefined,
    new Headers(headers),
  );
}

/** An `event: error` inside a 200 stream, as the SDK's stream iterator throws it. */
function inStream(type: string, message: string) {
  const body = { type: 'error', error: { type, message } };
  return new APIError(undefined, body, undefined, new Headers(), type as 'api_error');
}

describe('anthropicErrorToLlmError', () => {
  it.each([
    [401, 'authentication_error', 'auth'],
    [403, 'permission_error', 'permission'],
    [404, 'not_found_error', 'not_found'],
    [400, 'invalid_request_error', 'invalid_request'],
    [500, 'api_error', 'server'],
    [503, 'api_error', 'overloaded'],
    [529, 'overloaded_error', 'overloaded'],
    [504, 'timeout_error', 'timeout'],
  ])('maps a %i %s to %s', (status, type, kind) => {
    expect(anthropicErrorToLlmError(httpError(status, type, 'x'))).toMatchObject({
      kind,
      status,
      message: 'x',
    });
  });

  it('reads a 429 as rate_limited with the retry-after delay', () => {
    const error = anthropicErrorToLlmError(
      httpError(429, 'rate_limit_error', 'slow down', { 'retry-after': '7' }),
    );
    expect(error).toEqual({
      kind: 'rate_limited',
      message: 'slow down',
      retryable: true,
      status: 429,
      retryAfterMs: 7000,
    });
  });

  it('recognises a prompt that is too long, with the window it names', () => {
    const error = anthropicErrorToLlmError(
      httpError(400, 'invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum'),
    );
    expect(error).toMatchObject({
      kind: 'context_overflow',
      contextLimit: 200_000,
      retryable: false,
    });
    const budget = anthropicErrorToLlmError(
      httpError(
        400,
        'invalid_request_error',
        'input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length or `max_tokens` and try again',
      ),
    );
    expect(budget).toMatchObject({ kind: 'context_overflow', contextLimit: 200_000 });
  });

  it('reads a 413 request_too_large as a context overflow', () => {
    expect(
      anthropicErrorToLlmError(
        httpError(413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.'),
      ),
    ).toMatchObject({
      kind: 'context_overflow',
      status: 413,
    });
  });

  it('maps an error event inside a 200 stream by its type', () => {
    expect(anthropicErrorToLlmError(inStream('overloaded_error', 'Overloaded'))).toEqual({
      kind: 'overloaded',
      message: 'Overloaded',
      retryable: true,
    });
    expect(anthropicErrorToLlmError(inStream('api_error', 'Internal server error'))).toMatchObject({
      kind: 'server',
    });
  });

  it('separates timeouts, connection failures, cut streams and aborts', () => {
    expect(anthropicErrorToLlmError(new APIConnectionTimeoutError())).toMatchObject({
      kind: 'timeout',
    });
    expect(
      anthropicErrorToLlmError(new APIConnectionError({ message: 'ECONNREFUSED' })),
    ).toMatchObject({
      kind: 'network',
    });
    expect(anthropicErrorToLlmError(new TypeError('terminated'))).toMatchObject({
      kind: 'network',
    });
    expect(anthropicErrorToLlmError(new APIUserAbortError())).toMatchObject({
      kind: 'aborted',
      retryable: false,
    });
  });

  it('passes a stream failure through unchanged', () => {
    const error = makeLlmError('network', 'the stream ended before message_stop');
    expect(anthropicErrorToLlmError(new StreamFailure(error))).toBe(error);
  });
});
