import { Counter, type Registry } from 'prom-client';
import { BucketHistogram } from './bucket-histogram.ts';
import { bucketsOf } from './metrics.ts';

/**
 * API requests by route pattern (`/v1/sessions/:id`, never the id itself), method and status
 * class; unmatched paths share one `unmatched` route so scanners cannot grow the label.
 */
export function createHttpMetrics(registry: Registry) {
  const registers = [registry];
  const requests = new Counter({
    name: 'tern_http_requests_total',
    help: 'API requests by route, method and status class',
    labelNames: ['route', 'method', 'status'],
    registers,
  });
  const duration = new BucketHistogram({
    name: 'tern_http_request_duration_seconds',
    help: 'API request duration by route and method',
    labelNames: ['route', 'method'],
    buckets: bucketsOf('http'),
    registers,
  });
  return {
    observe(route: string, method: string, status: number, seconds: number): void {
      const statusClass = `${Math.floor(status / 100)}xx`;
      requests.inc({ route, method, status: statusClass });
      duration.observe({ route, method }, seconds);
    },
  };
}

export type HttpMetrics = ReturnType<typeof createHttpMetrics>;
