import { apiTokenSchema } from '@tern/shared/auth/api-token-format';

const STORAGE_KEY = 'tern.apiToken';

export function isApiToken(value: string): boolean {
  return apiTokenSchema.safeParse(value).success;
}

/**
 * Reads `token=<API token>` from a URL fragment (`tern up` prints such a link) and returns the
 * fragment without it. A fragment never reaches a server or its logs; the page still removes it
 * from the address bar, so it is neither bookmarked nor shared.
 */
export function takeFragmentToken(hash: string): { token: string | null; rest: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  if (token === null) return { token: null, rest: hash };
  params.delete('token');
  const rest = params.toString();
  return { token: isApiToken(token) ? token : null, rest: rest ? `#${rest}` : '' };
}

/**
 * The token is kept in localStorage: it survives reloads, stays on this origin, and is sent only
 * as a header by the page's own code (never as a cookie, so no other site can ride on it).
 */
export function loadToken(): string | null {
  try {
    const saved = window.localStorage.getItem(STORAGE_KEY);
    return saved && isApiToken(saved) ? saved : null;
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  try {
    window.localStorage.setItem(STORAGE_KEY, token);
  } catch {
    // Storage may be disabled (private mode): the token then lasts for this page only.
  }
}

export function forgetToken(): void {
  try {
    window.localStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
}
