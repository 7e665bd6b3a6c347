/**
 * The API token each running test stack's user holds, by the origin of its api and gateway, so
 * that `http()` and `connectCollector()` authenticate as that user unless told otherwise.
 */
const tokens = new Map<string, string>();

export function useTokenFor(url: string, token: string): void {
  tokens.set(new URL(url).origin, token);
}

export function forgetTokenFor(url: string): void {
  tokens.delete(new URL(url).origin);
}

export function tokenFor(url: string): string | undefined {
  return tokens.get(new URL(url).origin);
}

/** `{authorization: 'Bearer …'}` for a URL of a running stack, `{}` for any other. */
export function authFor(url: string): Record<string, string> {
  const token = tokenFor(url);
  return token ? { authorization: `Bearer ${token}` } : {};
}
