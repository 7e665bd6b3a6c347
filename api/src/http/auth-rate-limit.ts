import { retryAfterSeconds, type UserRateLimit } from '@tern/shared/auth/user-rate-limit';
import { TernError } from '@tern/shared/errors/tern-error';
import type { RequestHandler } from 'express';
import { callerOf } from './auth-caller.ts';

/** Each user's requests draw from one token bucket shared by every API process. */
export function rateLimitPerUser(limit: UserRateLimit): RequestHandler {
  return async (req, res, next) => {
    if (!limit.enabled) {
      next();
      return;
    }
    const decision = await limit.take(callerOf(req).id);
    if (decision.allowed) {
      next();
      return;
    }
    const seconds = retryAfterSeconds(decision.retryAfterMs);
    res.setHeader('retry-after', String(seconds));
    throw new TernError({
      code: 'rate_limited',
      status: 429,
      message: `too many requests from this user; retry in ${seconds} s`,
      details: { retryAfterSeconds: seconds },
    });
  };
}
