import { notFound } from '@tern/shared/errors/tern-error';
import type { RequestHandler } from 'express';
import type { z } from 'zod';
import { callerOf } from './auth-caller.ts';

/**
 * Mounted on `/v1/sessions/:id` and `/v1/batches/:id`, before every route of one session or
 * batch, so no route can forget it: another user's one answers exactly as one that does not exist
 * (404 `session_not_found`, `batch_not_found`), which tells nobody that it exists. Admins pass;
 * the route then answers for the session or batch itself. An owner never changes, so nothing can
 * slip in between this check and the route.
 */
export function ownerGate(
  what: 'session' | 'batch',
  idSchema: z.ZodType<string>,
  owners: { owner(id: string): Promise<string | undefined> },
): RequestHandler {
  return async (req, _res, next) => {
    const id = idSchema.safeParse(req.params.id);
    // Not an id (`/v1/sessions/import`, or a malformed id the route turns into a 404).
    if (!id.success) {
      next();
      return;
    }
    const caller = callerOf(req);
    if (!caller.admin && (await owners.owner(id.data)) !== caller.id) {
      throw notFound(what, id.data);
    }
    next();
  };
}
