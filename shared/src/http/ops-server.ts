import { createServer, type Server } from 'node:http';
import { type Registry, writeMetrics } from '../obs/metrics.ts';

export type OpsChecks = {
  /** Ready to take work: dependencies answer. */
  ready(): Promise<boolean>;
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
        (ok) =>
          res
            .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
            .end(JSON.stringify({ status: ok ? 'ready' : 'unavailable' })),
        () => res.writeHead(503).end('{"status":"unavailable"}'),
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

export async function redisReady(ping: () => Promise<string>): Promise<boolean> {
  try {
    return (await ping()) === 'PONG';
  } catch {
    return false;
  }
}
