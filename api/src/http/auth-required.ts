import { bearerToken } from '@tern/shared/auth/api-token';
import type { UserStore } from '@tern/shared/auth/user-store';
import { TernError } from '@tern/shared/errors/tern-error';
import type { RequestHandler } from 'express';
import { setCaller } from './auth-caller.ts';

/**
 * Every `/v1` request carries `Authorization: Bearer <token>`. The token is looked up in Redis on
 * each request, not cached, so a revoked token is refused by every API process from the next
 * request on (the lookup is one HGETALL, about the cost of a PING).
 */
export function requireAuth(users: UserStore): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    const token = bearerToken(header);
    const caller = token ? await users.authenticate(token) : undefined;
    if (!caller) {
      // RFC 6750: no credentials get the bare challenge; bad ones say the token is invalid.
      res.setHeader(
        'www-authenticate',
        header ? 'Bearer realm="tern", error="invalid_token"' : 'Bearer realm="tern"',
      );
      throw new TernError({
        code: 'unauthorized',
        status: 401,
        message: header
          ? 'the API token is malformed, unknown or revoked'
          : 'send an API token as Authorization: Bearer <token> (tern users add <name> creates one)',
      });
    }
    setCaller(req, caller);
    next();
  };
}
