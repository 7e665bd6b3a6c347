import { TernError } from '@tern/shared/errors/tern-error';
import type { RequestHandler } from 'express';

/** A body with another content type is refused rather than silently read as empty. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const length = Number(req.headers['content-length'] ?? 0);
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if ((length > 0 || chunked) && !req.is('application/json')) {
    next(
      new TernError({
        code: 'unsupported_media_type',
        status: 415,
        message: 'send the body as application/json',
      }),
    );
    return;
  }
  next();
};
