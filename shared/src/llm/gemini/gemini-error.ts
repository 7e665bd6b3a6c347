import { ApiError } from '@google/genai';
import { kindFromStatus, makeLlmError } from '../http-error-kind.ts';
import type { LlmError, LlmErrorKind } from '../llm-types.ts';
import { StreamFailure } from '../stream-failure.ts';

/**
 * Maps whatever `@google/genai` threw (before or inside the stream) to Tern's taxonomy. The SDK's
 * `ApiError` has only `status` and `message`; the message is Google's whole error body as JSON
 * (after "got status: X. " for an error event inside a 200 stream), so the `google.rpc` status
 * string and details (`ErrorInfo.reason`, `RetryInfo.retryDelay`) are read back out of it.
 */
export function geminiErrorToLlmError(error: unknown): LlmError {
  if (error instanceof StreamFailure) return error.error;
  const name = typeof error === 'object' && error !== null && 'name' in error ? error.name : '';
  if (name === 'AbortError') return makeLlmError('aborted', 'the request was aborted');
  if (name === 'TimeoutError') return makeLlmError('timeout', 'the request timed out');
  if (isApiError(error)) return fromApiError(error.status, error.message);
  const message = error instanceof Error ? error.message : String(error);
  // The SDK could not read an event as JSON: the stream itself is broken, not the connection.
  if (message.startsWith('exception parsing stream chunk')) {
    return makeLlmError('malformed_response', message);
  }
  return makeLlmError('network', message);
}

interface GoogleStatus {
  code?: number;
  message?: string;
  status?: string;
  details?: { '@type'?: string; reason?: string; retryDelay?: string }[];
}

const RPC_KINDS: Record<string, LlmErrorKind> = {
  INVALID_ARGUMENT: 'invalid_request',
  FAILED_PRECONDITION: 'permission',
  OUT_OF_RANGE: 'invalid_request',
  UNAUTHENTICATED: 'auth',
  PERMISSION_DENIED: 'permission',
  NOT_FOUND: 'not_found',
  RESOURCE_EXHAUSTED: 'rate_limited',
  UNAVAILABLE: 'overloaded',
  INTERNAL: 'server',
  UNKNOWN: 'server',
  DATA_LOSS: 'server',
  DEADLINE_EXCEEDED: 'timeout',
  ABORTED: 'server',
};

const OVERFLOW = /exceeds the maximum number of tokens allowed \((\d+)\)/i;

function fromApiError(status: number, sdkMessage: string): LlmError {
  const body = googleStatus(sdkMessage);
  const message = body?.message ?? sdkMessage;
  const details = Array.isArray(body?.details) ? body.details : [];
  const reason = details.find((d) => d['@type']?.endsWith('google.rpc.ErrorInfo'))?.reason;
  let kind: LlmErrorKind =
    (body?.status && RPC_KINDS[body.status]) ||
    (status === 504 ? 'timeout' : kindFromStatus(status));
  // An invalid key is a 400 INVALID_ARGUMENT on Gemini, told apart only by its reason.
  if (reason?.startsWith('API_KEY_')) kind = 'auth';
  const overflow = OVERFLOW.exec(message);
  if (overflow || /input token count/i.test(message)) kind = 'context_overflow';
  const retryAfterMs = kind === 'rate_limited' ? retryDelayOf(details, message) : undefined;
  return makeLlmError(kind, message, {
    status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(overflow?.[1] ? { contextLimit: Number(overflow[1]) } : {}),
  });
}

/** `RetryInfo.retryDelay` is a protobuf Duration ("30s", "1.5s"); the message repeats it. */
function retryDelayOf(
  details: GoogleStatus['details'] & object,
  message: string,
): number | undefined {
  const delay =
    details.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay ??
    /Please retry in ([\d.]+)s/.exec(message)?.[1]?.concat('s');
  const seconds = delay ? Number(/^([\d.]+)s$/.exec(delay)?.[1]) : Number.NaN;
  return Number.isFinite(seconds) ? Math.round(seconds * 1000) : undefined;
}

function googleStatus(message: string): GoogleStatus | undefined {
  const start = message.indexOf('{');
  if (start === -1) return undefined;
  try {
    const parsed: unknown = JSON.parse(message.slice(start));
    const error = (parsed as { error?: unknown } | null)?.error;
    return typeof error === 'object' && error !== null ? (error as GoogleStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** `instanceof`, or the same shape from another copy of the SDK. */
function isApiError(error: unknown): error is ApiError {
  return (
    error instanceof ApiError ||
    (error instanceof Error &&
      error.name === 'ApiError' &&
      typeof (error as ApiError).status === 'number')
  );
}
