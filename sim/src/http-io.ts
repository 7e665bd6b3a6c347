import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { SimExchange } from './sim-context.ts';

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(
  { res, requestId }: SimExchange,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': requestId,
    ...headers,
  });
  res.end(text);
}

export function sendText(
  { res, requestId }: SimExchange,
  status: number,
  contentType: string,
  text: string,
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-request-id': requestId,
  });
  res.end(text);
}
