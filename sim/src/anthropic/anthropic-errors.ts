import type { OutgoingHttpHeaders } from 'node:http';
import type { SimExchange } from '../sim-context.ts';
import { anthropicRequestId } from './anthropic-ids.ts';

/**
 * Anthropic's error envelope: `{type:"error", error:{type, message}, request_id}` with the same id
 * in the `request-id` header. The SDK reads `error.type` into `APIError.type` and picks the error
 * class from the status alone, so both must be right.
 */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

export interface AnthropicErrorObject {
  type: AnthropicErrorType;
  message: string;
}

export interface AnthropicErrorResponse {
  status: number;
  error: AnthropicErrorObject;
  headers?: OutgoingHttpHeaders;
}

export const invalidRequest = (message: string): AnthropicErrorResponse => ({
  status: 400,
  error: { type: 'invalid_request_error', message },
});

export const OVERLOADED: AnthropicErrorObject = { type: 'overloaded_error', message: 'Overloaded' };

/**
 * The exchange as Anthropic routes see it: the server names every request in OpenAI's `req_<hex>`
 * format, so the id is replaced by one in Anthropic's shape before anything is sent.
 */
export function asAnthropicExchange(exchange: SimExchange): SimExchange {
  return { ...exchange, requestId: anthropicRequestId(exchange.ctx.random) };
}

export function sendAnthropicJson(
  exchange: SimExchange,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(body);
  exchange.res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'request-id': exchange.requestId,
    ...headers,
  });
  exchange.res.end(text);
}

export function sendAnthropicError(exchange: SimExchange, response: AnthropicErrorResponse): void {
  sendAnthropicJson(
    exchange,
    response.status,
    { type: 'error', error: response.error, request_id: exchange.requestId },
    response.headers,
  );
}

/** The body of an `event: error` inside a 200 stream (no request id there). */
export function streamErrorData(error: AnthropicErrorObject): string {
  return JSON.stringify({ type: 'error', error });
}
