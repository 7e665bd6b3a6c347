import type { HttpMetrics } from '@tern/shared/obs/http-metrics';
import type { RequestHandler } from 'express';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Counts every request once it is answered, labelled by the route pattern express matched
 * (`/v1/sessions/:id`), so ids never become label values.
 */
export function requestMetrics(metrics: HttpMetrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const pattern = req.route?.path;
      const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
      const method = METHODS.has(req.method) ? req.method : 'other';
      metrics.observe(route, method, res.statusCode, (performance.now() - started) / 1000);
    });
    next();
  };
}
