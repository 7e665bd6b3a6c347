import { notFound } from '@tern/shared/errors/tern-error';
import { sessionIdSchema } from '@tern/shared/protocol/api';
import type { SessionStore } from '@tern/shared/session/session-store';
import type { RequestHandler } from 'express';
import { callerOf } from './auth-caller.ts';

/**
 * Mounted on `/v1/sessions/:id`, before every route of one session, so no route can forget it:
 * another user's session answers exactly as one that does not exist (404 `session_not_found`),
 * which tells nobody that it exists. Admins pass; the route then answers for the session itself.
 * A session's owner never changes, so nothing can slip in between this check and the route.
 */
export function sessionOwnerGate(store: SessionStore): RequestHandler {
  return async (req, _res, next) => {
    const id = sessionIdSchema.safeParse(req.params.id);
    // Not a session id (`/v1/sessions/import`, or a malformed id the route turns into a 404).
    if (!id.success) {
      next();
      return;
    }
    const caller = callerOf(req);
    if (!caller.admin && (await store.owner(id.data)) !== caller.id) {
      throw notFound('session', id.data);
    }
    next();
  };
}
