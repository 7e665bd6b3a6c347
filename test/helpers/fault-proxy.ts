import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultKind = 'slowdown' | 'internal';

export type FaultProxy = {
  url: string;
  /** Answers the next `n` requests itself with the fault instead of forwarding them. */
  failNext(n: number, kind: FaultKind): void;
  /**
   * While on, takes requests and never answers them: a store whose connections open but stall,
   * which no connection error would reveal.
   */
  hang(on: boolean): void;
  /** Requests seen, forwarded or not. */
  readonly requests: number;
  readonly faulted: number;
  close(): Promise<void>;
};

const bodies: Record<FaultKind, { status: number; code: string; message: string }> = {
  slowdown: { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
  internal: { status: 500, code: 'InternalError', message: 'We encountered an internal error.' },
};

/**
 * An HTTP proxy in front of an S3 server that answers chosen requests with S3's own error
 * responses (503 SlowDown, 500 InternalError), or none at all, and forwards the rest untouched, so the client's
 * signatures stay valid (path-style requests keep their Host-independent path).
 */
export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  let pending: { n: number; kind: FaultKind } = { n: 0, kind: 'internal' };
  let requests = 0;
  let faulted = 0;
  let hanging = false;
  const server = createServer((req, res) => {
    requests++;
    if (hanging) return;
    if (pending.n > 0) {
      pending.n--;
      faulted++;
      const fault = bodies[pending.kind];
      // Drain the request body before answering, as S3 does.
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': 'application/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>${fault.message}</Message><RequestId>fault-proxy</RequestId></Error>`,
        );
      });
      return;
    }
    const upstream = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    failNext: (n, kind) => {
      pending = { n, kind };
    },
    hang: (on) => {
      hanging = on;
    },
    get requests() {
      return requests;
    },
    get faulted() {
      return faulted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
