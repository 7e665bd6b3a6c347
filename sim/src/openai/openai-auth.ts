import type { IncomingHttpHeaders } from 'node:http';
import { invalidRequest, type OpenAiErrorResponse } from './openai-errors.ts';

/**
 * The simulator needs no key: any bearer (or none) is accepted, except the reserved `sk-invalid`,
 * which is refused exactly as OpenAI refuses a wrong key so clients' auth handling can be tested.
 */
export const INVALID_KEY = 'sk-invalid';

export function checkAuth(headers: IncomingHttpHeaders): OpenAiErrorResponse | undefined {
  const key = /^Bearer\s+(.*)$/i.exec(headers.authorization ?? '')?.[1]?.trim();
  if (key !== INVALID_KEY) return undefined;
  return {
    status: 401,
    body: invalidRequest(
      `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      null,
      'invalid_api_key',
    ),
  };
}

/** OpenAI echoes the first and last characters of a wrong key, starring the middle. */
function maskKey(key: string): string {
  return key.length <= 8 ? key : `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}
