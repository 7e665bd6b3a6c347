import type { IncomingHttpHeaders } from 'node:http';
import type { AnthropicErrorResponse } from './anthropic-errors.ts';

/**
 * No key is needed, but the reserved `sk-ant-invalid` is refused as Anthropic refuses a wrong key,
 * so clients' auth handling can be tested. The version header is required as on the real API;
 * its value is only checked for shape, since each SDK release pins its own date.
 */
export const INVALID_ANTHROPIC_KEY = 'sk-ant-invalid';

const VERSION = /^\d{4}-\d{2}-\d{2}$/;

export function checkAnthropicHeaders(
  headers: IncomingHttpHeaders,
): AnthropicErrorResponse | undefined {
  const bearer = /^Bearer\s+(.*)$/i.exec(headers.authorization ?? '')?.[1]?.trim();
  const key = typeof headers['x-api-key'] === 'string' ? headers['x-api-key'].trim() : bearer;
  if (key === INVALID_ANTHROPIC_KEY) {
    return { status: 401, error: { type: 'authentication_error', message: 'invalid x-api-key' } };
  }
  const version = headers['anthropic-version'];
  if (version === undefined) {
    return {
      status: 400,
      error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' },
    };
  }
  if (typeof version !== 'string' || !VERSION.test(version.trim())) {
    return {
      status: 400,
      error: {
        type: 'invalid_request_error',
        message: `anthropic-version: "${String(version)}" is not a valid version`,
      },
    };
  }
  return undefined;
}
