import { authFor } from './auth-tokens.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies in assertions
export type HttpResult = { status: number; body: any; headers: Headers };

/**
 * JSON over fetch with the status kept, for asserting on error responses. Authenticated as the
 * stack's user unless `headers` has its own `authorization`.
 */
export async function http(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const own = Object.keys(headers).some((h) => h.toLowerCase() === 'authorization');
  const init: RequestInit = { method, headers: { ...(own ? {} : authFor(url)), ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
