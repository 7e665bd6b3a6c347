import { resolveRuntimeConfig } from '../../../lib/runtime-config';

// Read at request time so a built UI follows the environment of the `next start` process.
export const dynamic = 'force-dynamic';

export function GET(request: Request): Response {
  const config = resolveRuntimeConfig(process.env, {
    host: request.headers.get('host'),
    forwardedHost: request.headers.get('x-forwarded-host'),
    forwardedProto: request.headers.get('x-forwarded-proto'),
  });
  return Response.json(config, { headers: { 'cache-control': 'no-store' } });
}
