import { createServer, type Server, type ServerResponse } from 'node:http';
import { type Registry, writeMetrics } from '../obs/metrics.ts';
import { type ReadinessReport, readinessStatus } from './readiness.ts';

export type OpsChecks = {
  /** Ready to take work: dependencies answer (see readiness.ts). */
  ready(): Promise<ReadinessReport>;
  /** Served at `/metrics` when given. */
  metrics?: Registry | undefined;
};

/**
 * `/healthz` (the process is alive), `/readyz` (its dependencies answer) and `/metrics`
 * (Prometheus) for processes without an HTTP server of their own, such as workers.
 */
export function startOpsServer(host: string, port: number, checks: OpsChecks): Promise<Server> {
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    if (path === '/readyz') {
      checks.ready().then(
        (report) => writeReadiness(res, report),
        () => writeReadiness(res, { status: 'unavailable', down: [], checks: {} }),
      );
      return;
    }
    if (path === '/metrics' && checks.metrics) {
      void writeMetrics(checks.metrics, res);
      return;
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end('{"error":{"code":"not_found"}}');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** `/readyz`'s answer: 200 or 503, with what is down. */
export function writeReadiness(res: ServerResponse, report: ReadinessReport): void {
  res
    .writeHead(readinessStatus(report), { 'content-type': 'application/json' })
    .end(JSON.stringify(report));
}
