import type {
  ErrorBody,
  PostMessageResponse,
  SessionDetail,
  SessionSummary,
} from '@tern/shared/protocol/api';

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * One request to Tern's HTTP API (`baseUrl` without a trailing slash) with the caller's token,
 * `body` sent as JSON. Any HTTP answer is returned; only an API that cannot be reached throws,
 * as `api_unreachable`.
 */
export async function fetchApi(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  try {
    return await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new ApiError(
      0,
      'api_unreachable',
      `cannot reach the Tern API at ${baseUrl} (${(error as Error).message}); is \`tern up\` running?`,
    );
  }
}

/** The error of a refused request, from its `{error: {code, message}}` body when it has one. */
export function refusal(status: number, error: ErrorBody['error'] | undefined): ApiError {
  return new ApiError(status, error?.code ?? 'http_error', error?.message ?? `HTTP ${status}`);
}

/** A small typed client of Tern's HTTP API, shared by `tern run` and `tern chat`. */
export class ApiClient {
  readonly baseUrl: string;
  readonly #token: string;
  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.#token = token;
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetchApi(this.baseUrl, this.#token, method, path, body);
    const text = await res.text();
    const json = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) throw refusal(res.status, (json as ErrorBody | undefined)?.error);
    return json as T;
  }

  createSession(body: { title?: string; model?: string; files?: Record<string, string> }) {
    return this.#call<{ session: SessionSummary }>('POST', '/v1/sessions', body);
  }

  session(id: string) {
    return this.#call<SessionDetail>('GET', `/v1/sessions/${encodeURIComponent(id)}`);
  }

  /** The session's graph, totals and log figures (`turns`: how many of the last turns to detail). */
  sessionStats(id: string, turns?: number) {
    const query = turns === undefined ? '' : `?turns=${turns}`;
    return this.#call<unknown>('GET', `/v1/sessions/${encodeURIComponent(id)}/stats${query}`);
  }

  postMessage(id: string, text: string, clientMessageId?: string) {
    return this.#call<PostMessageResponse>(
      'POST',
      `/v1/sessions/${encodeURIComponent(id)}/messages`,
      {
        text,
        ...(clientMessageId ? { clientMessageId } : {}),
      },
    );
  }
}
