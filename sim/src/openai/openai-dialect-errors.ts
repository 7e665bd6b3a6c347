import { sendJson } from '../http-io.ts';
import type { SimExchange } from '../sim-context.ts';
import type { OpenAiDialect } from './openai-dialect.ts';
import type { OpenAiErrorResponse } from './openai-errors.ts';

/**
 * Every error of the route is built in OpenAI's shape and reshaped here for the dialect, so the
 * rows of the fault table and the request validator stay one per fault, not one per server.
 */

/** vLLM names its error types after Python exception classes, and puts the status in `code`. */
const VLLM_ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  500: 'InternalServerError',
};

export function dialectErrorBody(dialect: OpenAiDialect, response: OpenAiErrorResponse): unknown {
  if (dialect.errorShape === 'openai') return response.body;
  // vLLM's `--api-key` middleware answers before any handler, with a bare string.
  if (response.status === 401) return { error: 'Unauthorized' };
  const { message, type, param } = response.body.error;
  const info = {
    message,
    type: VLLM_ERROR_TYPES[response.status] ?? type,
    param,
    code: response.status,
  };
  return dialect.errorShape === 'vllm' ? { error: info } : { object: 'error', ...info };
}

export function sendDialectError(
  exchange: SimExchange,
  dialect: OpenAiDialect,
  response: OpenAiErrorResponse,
): void {
  sendJson(exchange, response.status, dialectErrorBody(dialect, response), response.headers);
}

/**
 * The `data:` payload of an error after HTTP 200. OpenAI and newer vLLM send their usual envelope;
 * old vLLM wraps its flat body in `{"error": …}` (`create_streaming_error_response`). All three
 * have a truthy `error`, which is what makes the `openai` SDK's Stream throw an `APIError`.
 */
export function inStreamErrorBody(dialect: OpenAiDialect, response: OpenAiErrorResponse): unknown {
  const body = dialectErrorBody(dialect, response);
  return dialect.errorShape === 'vllm-legacy' ? { error: body } : body;
}
