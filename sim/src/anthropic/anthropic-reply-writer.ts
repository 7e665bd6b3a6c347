import type { ServerResponse } from 'node:http';
import { type StepTimes, type TimedChunk, writePaced } from '../paced-writer.ts';
import type { SimExchange } from '../sim-context.ts';

/**
 * How a paced Messages reply leaves: as SSE or one JSON body, whole or broken off by the `cut`
 * fault. Anthropic names the request in a `request-id` header (not `x-request-id`).
 */
export async function sendEventStream(
  { res, requestId, signal }: SimExchange,
  chunks: TimedChunk[],
  offsets: StepTimes,
  cut: boolean,
): Promise<boolean> {
  const write = (data: string) => {
    if (!res.headersSent) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'request-id': requestId,
      });
    }
    res.write(data);
  };
  // A cut stream stops half-way, after at least message_start.
  const sent = cut ? chunks.slice(0, Math.max(1, Math.floor(chunks.length / 2))) : chunks;
  const finished = await writePaced(sent, offsets, write, signal);
  if (!finished) return false;
  if (cut) return cutConnection(res);
  res.end();
  return true;
}

/** Non-streamed replies still take the whole generation time before the body is sent. */
export async function sendMessageBody(
  { res, requestId, signal }: SimExchange,
  chunk: TimedChunk,
  offsets: StepTimes,
  cut: boolean,
): Promise<boolean> {
  const write = (body: string) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'request-id': requestId,
    });
    // A cut reply announces the full length but delivers half of the body.
    if (cut) res.write(body.slice(0, Math.floor(body.length / 2)));
    else res.end(body);
  };
  const finished = await writePaced([chunk], offsets, write, signal);
  if (!finished) return false;
  return cut ? cutConnection(res) : true;
}

/**
 * Ends the TCP connection without finishing the HTTP message. `end()` rather than `destroy()` so
 * the bytes already written are flushed first.
 */
function cutConnection(res: ServerResponse): false {
  res.socket?.end();
  return false;
}
