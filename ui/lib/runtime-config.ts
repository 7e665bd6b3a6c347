/** What the browser needs to reach the backend. Public addresses only: never a key or a token. */
export type RuntimeConfig = {
  apiUrl: string;
  gatewayUrl: string;
};

type Env = Readonly<Record<string, string | undefined>>;

function port(value: string | undefined, fallback: number): number {
  const parsed = Number(value);
  return Number.isInteger(parsed) && parsed > 0 && parsed < 65_536 ? parsed : fallback;
}

function stripTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * Resolves the backend addresses for one request. Explicit `TERN_PUBLIC_*` URLs win; otherwise
 * the API and gateway are assumed to run on the host the browser used to reach the UI, on their
 * own ports, so `next start` on a VPS works without a rebuild. Only these named variables are
 * read: the route must never echo arbitrary environment.
 */
export function resolveRuntimeConfig(
  env: Env,
  request: { host: string | null; forwardedHost: string | null; forwardedProto: string | null },
): RuntimeConfig {
  const host = request.forwardedHost?.split(',')[0]?.trim() || request.host || 'localhost';
  const protoHeader = request.forwardedProto?.split(',')[0]?.trim();
  const protocol = protoHeader === 'https' ? 'https' : 'http';
  let hostname = 'localhost';
  try {
    // URL keeps IPv6 brackets in `hostname`, which is what an address needs.
    hostname = new URL(`http://${host}`).hostname || hostname;
  } catch {
    // A malformed Host header falls back to localhost rather than failing the page.
  }
  const derive = (p: number) => `${protocol}://${hostname}:${p}`;
  return {
    apiUrl: stripTrailingSlash(env.TERN_PUBLIC_API_URL || derive(port(env.API_PORT, 4000))),
    gatewayUrl: stripTrailingSlash(
      env.TERN_PUBLIC_GATEWAY_URL || derive(port(env.GATEWAY_PORT, 4001)),
    ),
  };
}
