import { TernError } from '@tern/shared/errors/tern-error';
import type { Logger } from '@tern/shared/obs/logger';
import type { ErrorBody } from '@tern/shared/protocol/api';
import type { ErrorRequestHandler, RequestHandler } from 'express';

type BodyParserError = Error & { type?: string; status?: number; limit?: number };

/** body-parser's failures, which arrive as plain errors with a `type`, mapped to stable codes. */
function fromBodyParser(error: BodyParserError): TernError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new TernError({
        code: 'invalid_json',
        status: 400,
        message: 'the body is not valid JSON',
      });
    case 'entity.too.large':
      return new TernError({
        code: 'payload_too_large',
        status: 413,
        message: `the body exceeds ${error.limit ?? 'the'} bytes`,
      });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new TernError({ code: 'unsupported_encoding', status: 415, message: error.message });
    case 'request.aborted':
      return new TernError({
        code: 'request_aborted',
        status: 400,
        message: 'the request was aborted',
      });
    default:
      return undefined;
  }
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const tern = TernError.isInstance(error) ? error : fromBodyParser(error as BodyParserError);
    if (tern && tern.status < 500) {
      res.status(tern.status).json({ error: tern.toJSON() } satisfies ErrorBody);
      return;
    }
    logger.error({ err: (error as Error)?.message, path: req.path }, 'request failed');
    const status = tern?.status ?? 500;
    const body: ErrorBody = {
      error: {
        code: tern?.code ?? 'internal',
        message: tern?.message ?? 'internal error; the operator can find details in the API logs',
      },
    };
    if (tern?.retryable) res.setHeader('retry-after', '1');
    res.status(status).json(body);
  };
}

export const routeNotFound: RequestHandler = (req, res) => {
  res.status(404).json({
    error: { code: 'route_not_found', message: `no route ${req.method} ${req.path}` },
  } satisfies ErrorBody);
};
