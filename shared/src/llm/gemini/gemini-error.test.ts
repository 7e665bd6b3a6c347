import { ApiError } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { geminiErrorToLlmError } from './gemini-error.ts';

/** What the SDK throws for an HTTP error: the body, as JSON, in the message. */
const httpError = (status: number, error: object) =>
  new ApiError({ status, message: JSON.stringify({ error }) });

describe('geminiErrorToLlmError', () => {
  it('reads an invalid key (a 400 with ErrorInfo API_KEY_INVALID) as auth', () => {
    const error = httpError(400, {
      code: 400,
      message: 'API key not valid. Please pass a valid API key.',
      status: 'INVALID_ARGUMENT',
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }],
    });
    expect(geminiErrorToLlmError(error)).toEqual({
      kind: 'auth',
      message: 'API key not valid. Please pass a valid API key.',
      retryable: false,
      status: 400,
    });
  });

  it('reads the token-count overflow as context_overflow with its limit', () => {
    const message =
      'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).';
    expect(
      geminiErrorToLlmError(httpError(400, { code: 400, message, status: 'INVALID_ARGUMENT' })),
    ).toMatchObject({ kind: 'context_overflow', contextLimit: 1048576, retryable: false });
  });

  it.each([
    ['30s', 30_000],
    ['1.5s', 1_500],
  ])('takes retryAfterMs from RetryInfo.retryDelay %s', (retryDelay, ms) => {
    const error = httpError(429, {
      code: 429,
      message: 'You exceeded your current quota.',
      status: 'RESOURCE_EXHAUSTED',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [] },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
      ],
    });
    expect(geminiErrorToLlmError(error)).toMatchObject({
      kind: 'rate_limited',
      retryable: true,
      retryAfterMs: ms,
      status: 429,
    });
  });

  it.each([
    [400, 'INVALID_ARGUMENT', 'invalid_request'],
    [400, 'FAILED_PRECONDITION', 'permission'],
    [403, 'PERMISSION_DENIED', 'permission'],
    [404, 'NOT_FOUND', 'not_found'],
    [500, 'INTERNAL', 'server'],
    [503, 'UNAVAILABLE', 'overloaded'],
    [504, 'DEADLINE_EXCEEDED', 'timeout'],
  ])('maps %i %s to %s', (status, rpc, kind) => {
    expect(
      geminiErrorToLlmError(httpError(status, { code: status, message: 'x', status: rpc })).kind,
    ).toBe(kind);
  });

  it('maps an error event inside a 200 stream the same way', () => {
    const body = {
      error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' },
    };
    const error = new ApiError({
      status: 503,
      message: `got status: UNAVAILABLE. ${JSON.stringify(body)}`,
    });
    expect(geminiErrorToLlmError(error)).toMatchObject({
      kind: 'overloaded',
      message: 'The model is overloaded.',
      retryable: true,
    });
  });

  it('falls back on the HTTP status when the body is not Google JSON', () => {
    const error = new ApiError({
      status: 502,
      message: '{"error":{"message":"<html>","code":502,"status":"Bad Gateway"}}',
    });
    expect(geminiErrorToLlmError(error)).toMatchObject({ kind: 'server', status: 502 });
  });

  it('reads aborts, timeouts, dropped connections and unparsable events', () => {
    expect(
      geminiErrorToLlmError(new DOMException('This operation was aborted', 'AbortError')).kind,
    ).toBe('aborted');
    expect(geminiErrorToLlmError(new DOMException('timed out', 'TimeoutError')).kind).toBe(
      'timeout',
    );
    expect(geminiErrorToLlmError(new TypeError('terminated'))).toMatchObject({
      kind: 'network',
      retryable: true,
    });
    expect(geminiErrorToLlmError(new TypeError('fetch failed')).kind).toBe('network');
    expect(
      geminiErrorToLlmError(new Error('exception parsing stream chunk {. SyntaxError')).kind,
    ).toBe('malformed_response');
  });
});
