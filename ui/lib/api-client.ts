import type {
  CreateSessionBody,
  ErrorBody,
  PostMessageInput,
  PostMessageResponse,
  SessionDetail,
  SessionSummary,
} from '@tern/shared/protocol/api';

/** A failed API call, carrying the server's machine-readable `code` (or a client-side one). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }

  /** True when no HTTP answer came back at all (API down, wrong address, CORS refusal). */
  get unreachable(): boolean {
    return this.status === 0;
  }
}

export type SessionPage = { sessions: SessionSummary[]; nextCursor: string | null };

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = (value as { error: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError('client_error', message, -1);
}

/**
 * Thin typed client for the REST API; the API validates, so bodies are trusted as typed. Every
 * call carries the user's API token (a 401 means it was revoked or mistyped).
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError('api_unreachable', `Cannot reach the API at ${this.baseUrl}`, 0);
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Handled below: a non-JSON body is an error whatever the status says.
    }
    if (!response.ok) {
      if (isErrorBody(parsed)) {
        throw new ApiError(parsed.error.code, parsed.error.message, response.status);
      }
      throw new ApiError(
        `http_${response.status}`,
        `${method} ${path} failed with ${response.status}`,
        response.status,
      );
    }
    if (parsed === null) {
      throw new ApiError('bad_response', `${method} ${path} returned no JSON`, response.status);
    }
    return parsed as T;
  }

  listSessions(options: { limit?: number; cursor?: string | null } = {}): Promise<SessionPage> {
    const query = new URLSearchParams({ limit: String(options.limit ?? 50) });
    if (options.cursor) query.set('cursor', options.cursor);
    return this.request('GET', `/v1/sessions?${query}`);
  }

  async createSession(body: CreateSessionBody = {}): Promise<SessionSummary> {
    const result = await this.request<{ session: SessionSummary }>('POST', '/v1/sessions', body);
    return result.session;
  }

  getSession(sessionId: string): Promise<SessionDetail> {
    return this.request('GET', `/v1/sessions/${encodeURIComponent(sessionId)}`);
  }

  postMessage(sessionId: string, body: PostMessageInput): Promise<PostMessageResponse> {
    return this.request('POST', `/v1/sessions/${encodeURIComponent(sessionId)}/messages`, body);
  }
}
