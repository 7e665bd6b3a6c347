import type { BatchStore } from '@tern/shared/batch/batch-store';
import { notFound } from '@tern/shared/errors/tern-error';
import { batchIdSchema } from '@tern/shared/protocol/batch-api';
import type { RequestHandler } from 'express';
import { callerOf } from './auth-caller.ts';

/**
 * Mounted on `/v1/batches/:id`, before every route of one batch, as sessions have theirs
 * (auth-session-owner.ts): another user's batch answers exactly as one that does not exist (404
 * `batch_not_found`). Admins pass. A batch's owner never changes.
 */
export function batchOwnerGate(batches: BatchStore): RequestHandler {
  return async (req, _res, next) => {
    const id = batchIdSchema.safeParse(req.params.id);
    // A malformed id: the route answers 404 for it.
    if (!id.success) {
      next();
      return;
    }
    const caller = callerOf(req);
    if (!caller.admin && (await batches.owner(id.data)) !== caller.id) {
      throw notFound('batch', id.data);
    }
    next();
  };
}
