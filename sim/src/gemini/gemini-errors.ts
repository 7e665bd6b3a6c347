import type { OutgoingHttpHeaders } from 'node:http';
import type { SimExchange } from '../sim-context.ts';
import { prettyGoogleJson } from './gemini-json.ts';

/**
 * Google's error envelope (`google.rpc.Status` as JSON). Messages and details copy the real
 * Generative Language API, because clients (and Tern's error mapping) parse them.
 */
export interface GoogleErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] };
}

export interface GeminiErrorResponse {
  status: number;
  body: GoogleErrorBody;
}

/** Headers every Google front end sends; `content-type` is Google's exact value. */
export const GOOGLE_HEADERS: OutgoingHttpHeaders = {
  vary: 'Origin, X-Origin, Referer',
  server: 'scaffolding on HTTPServer2',
  'x-content-type-options': 'nosniff',
};
export const GOOGLE_JSON = 'application/json; charset=UTF-8';

export function googleError(
  code: number,
  status: string,
  message: string,
  details?: unknown[],
): GeminiErrorResponse {
  return { status: code, body: { error: { code, message, status, ...(details && { details }) } } };
}

export const invalidArgument = (message: string, details?: unknown[]) =>
  googleError(400, 'INVALID_ARGUMENT', message, details);

export const INTERNAL_MESSAGE =
  'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting';

export const internalError = () => googleError(500, 'INTERNAL', INTERNAL_MESSAGE);

/** `Invalid JSON payload` problems come with a `BadRequest` detail naming each field. */
export interface FieldViolation {
  field: string;
  description: string;
}

export function badRequest(violations: readonly FieldViolation[]): GeminiErrorResponse {
  return invalidArgument(violations.map((v) => v.description).join('\n'), [
    { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: violations },
  ]);
}

export function sendGeminiError({ res }: SimExchange, { status, body }: GeminiErrorResponse): void {
  sendGoogleJson(res, status, body);
}

export function sendGoogleJson(res: SimExchange['res'], status: number, body: unknown): void {
  const text = prettyGoogleJson(body);
  res.writeHead(status, {
    ...GOOGLE_HEADERS,
    'content-type': GOOGLE_JSON,
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** How the API words a rule a field breaks once the body parsed: one `* Request.path: …` line. */
export function fieldProblem(path: string, message: string): string {
  return `* GenerateContentRequest.${path}: ${message}\n`;
}
