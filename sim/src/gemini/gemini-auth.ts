import type { IncomingMessage } from 'node:http';
import { type GeminiErrorResponse, invalidArgument } from './gemini-errors.ts';

/**
 * No key is needed, except the reserved `AIza-invalid`, refused as Google refuses a wrong key: a
 * 400 `INVALID_ARGUMENT` whose `ErrorInfo.reason` is `API_KEY_INVALID` (not a 401). The key is read
 * where Google reads it: the `x-goog-api-key` header, else the `key` query parameter.
 */
export const INVALID_GEMINI_KEY = 'AIza-invalid';

const MESSAGE = 'API key not valid. Please pass a valid API key.';

export function checkGeminiKey(req: IncomingMessage): GeminiErrorResponse | undefined {
  const header = req.headers['x-goog-api-key'];
  const key =
    typeof header === 'string'
      ? header
      : new URL(req.url ?? '/', 'http://sim').searchParams.get('key');
  if (key?.trim() !== INVALID_GEMINI_KEY) return undefined;
  return invalidArgument(MESSAGE, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
    {
      '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
      locale: 'en-US',
      message: MESSAGE,
    },
  ]);
}
