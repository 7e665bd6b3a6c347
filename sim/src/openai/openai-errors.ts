import { sendJson } from '../http-io.ts';
import type { SimExchange } from '../sim-context.ts';

/**
 * OpenAI's error envelope. Messages copy the real API's wording (quirks included) because clients
 * and Tern's error mapping match on them.
 */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface OpenAiErrorResponse {
  status: number;
  body: OpenAiErrorBody;
  headers?: Record<string, string>;
}

export function openAiError(
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}

export function invalidRequest(
  message: string,
  param: string | null = null,
  code: string | null = null,
): OpenAiErrorBody {
  return openAiError(message, 'invalid_request_error', param, code);
}

export function unknownUrl(method: string, path: string): OpenAiErrorBody {
  return invalidRequest(`Invalid URL (${method} ${path})`);
}

/** A model the server does not serve: OpenAI's wording, or vLLM's (`_check_model`). */
export function modelNotFound(model: string, style: 'openai' | 'vllm'): OpenAiErrorResponse {
  return style === 'openai'
    ? {
        status: 404,
        body: invalidRequest(
          `The model \`${model}\` does not exist or you do not have access to it.`,
          null,
          'model_not_found',
        ),
      }
    : { status: 404, body: invalidRequest(`The model \`${model}\` does not exist.`) };
}

/** vLLM started without `--enable-auto-tool-choice` / `--tool-call-parser` (`serving_chat.py`). */
export function autoToolChoiceDisabled(): OpenAiErrorResponse {
  return {
    status: 400,
    body: invalidRequest(
      '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',
    ),
  };
}

export function serverError(): OpenAiErrorBody {
  return openAiError(
    'The server had an error while processing your request. Sorry about that!',
    'server_error',
  );
}

export function sendOpenAiError(
  exchange: SimExchange,
  { status, body, headers }: OpenAiErrorResponse,
): void {
  sendJson(exchange, status, body, headers);
}
