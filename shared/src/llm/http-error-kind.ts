import type { LlmError, LlmErrorKind } from './llm-types.ts';

const retryableKinds: ReadonlySet<LlmErrorKind> = new Set([
  'rate_limited',
  'overloaded',
  'server',
  'timeout',
  'network',
]);

export const isRetryableKind = (kind: LlmErrorKind): boolean => retryableKinds.has(kind);

/** The taxonomy's default reading of an HTTP status; adapters refine it with body codes. */
export function kindFromStatus(status: number): LlmErrorKind {
  if (status === 400 || status === 422) return 'invalid_request';
  if (status === 401) return 'auth';
  if (status === 403) return 'permission';
  if (status === 404) return 'not_found';
  if (status === 408) return 'timeout';
  if (status === 413) return 'context_overflow';
  if (status === 429) return 'rate_limited';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'server';
  return 'invalid_request';
}

/** `retry-after-ms`, then `retry-after` (seconds or an HTTP date). */
export function retryAfterFromHeaders(
  get: (name: string) => string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  const ms = get('retry-after-ms');
  if (ms) {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = get('retry-after');
  if (!after) return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** "maximum context length is 8192 tokens" and its variants across OpenAI-style servers. */
export function contextLimitFromMessage(message: string): number | undefined {
  const match = /maximum context length (?:is|of) (\d+)/i.exec(message);
  return match?.[1] ? Number(match[1]) : undefined;
}

export function makeLlmError(
  kind: LlmErrorKind,
  message: string,
  extra: Omit<LlmError, 'kind' | 'message' | 'retryable'> = {},
): LlmError {
  return { kind, message, retryable: isRetryableKind(kind), ...extra };
}
