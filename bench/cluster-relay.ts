import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventEnvelope } from '@tern/shared/protocol/events';
import { redisKeys } from '@tern/shared/session/session-keys';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { io } from 'socket.io-client';
import { connectCollector } from '../test/helpers/event-collector.ts';
import { http } from '../test/helpers/http.ts';
import type { Stack } from '../test/helpers/stack.ts';
import { table } from './stats.ts';

const EVENTS = 100_000;
/** Events per XADD batch: a burst of token deltas a worker publishes in one script call. */
const BATCH = 200;

const delta = (turnId: string, i: number) =>
  JSON.stringify({ type: 'text_delta', turnId, text: `tok${i % 1000} ` });

/**
 * Figure 3: events per second from a session's Redis Stream through one gateway to one
 * subscribed socket.io client, beside raw socket.io emitting the same envelopes to one client
 * with both ends in this process.
 */
export async function relayThroughput(stack: Stack): Promise<string> {
  const rawRate = await raw();
  const ternRate = await throughGateway(stack);
  return [
    table(
      ['path', 'events', 'events/s', 'vs raw'],
      [
        ['raw socket.io, one process (floor)', String(EVENTS), rate(rawRate), '1.00x'],
        [
          'redis stream → gateway → client',
          String(EVENTS),
          rate(ternRate),
          `${(ternRate / rawRate).toFixed(2)}x`,
        ],
      ],
    ),
    `Target: ≥ 50,000/s and ≥ 0.7x raw. The bench XADDs text_delta events to one session's stream in pipelined batches of ${BATCH} (as a worker publishes) while a client of the gateway counts them; the rate is events / (first XADD sent → last event received).`,
  ].join('\n');
}

const rate = (perSec: number) => Math.round(perSec).toLocaleString('en-US');

async function throughGateway(stack: Stack): Promise<number> {
  const created = await http('POST', `${stack.apiUrl}/v1/sessions`, {});
  const id = created.body.session.id as string;
  const collector = await connectCollector(stack.gatewayUrl);
  const producer = new Redis(stack.redisUrl);
  try {
    await collector.subscribe(id, '0-0');
    const key = redisKeys.events(id);
    const start = performance.now();
    for (let sent = 0; sent < EVENTS; sent += BATCH) {
      const pipeline = producer.pipeline();
      for (let i = sent; i < sent + BATCH; i++) pipeline.xadd(key, '*', 'e', delta(`${id}-t1`, i));
      await pipeline.exec();
    }
    await collector.waitFor((all) => all.length >= EVENTS, 120_000);
    return EVENTS / ((performance.now() - start) / 1000);
  } finally {
    collector.close();
    producer.disconnect();
  }
}

async function raw(): Promise<number> {
  const server = createServer();
  const ioServer = new Server(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const client = io(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
  try {
    const socket = await new Promise<import('socket.io').Socket>((r) =>
      ioServer.once('connection', r),
    );
    let received = 0;
    const done = new Promise<void>((resolve) =>
      client.on('event', () => {
        if (++received === EVENTS) resolve();
      }),
    );
    const start = performance.now();
    for (let sent = 0; sent < EVENTS; sent += BATCH) {
      for (let i = sent; i < sent + BATCH; i++) {
        const envelope: EventEnvelope = {
          id: `${Date.now()}-${i}`,
          sessionId: 'ses_benchbenchbench',
          event: JSON.parse(delta('ses_benchbenchbench-t1', i)),
        };
        socket.emit('event', envelope);
      }
      // One batch per macrotask, as the gateway emits one XREAD reply at a time.
      await new Promise((r) => setImmediate(r));
    }
    await done;
    return EVENTS / ((performance.now() - start) / 1000);
  } finally {
    client.close();
    await ioServer.close();
  }
}
