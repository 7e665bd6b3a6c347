import type {
  ClientToServerEvents,
  EventEnvelope,
  ServerToClientEvents,
  SubscribeAck,
} from '@tern/shared/protocol/events';
import { io, type Socket } from 'socket.io-client';
import { tokenFor } from './auth-tokens.ts';

export type Collector = {
  socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  envelopes: EventEnvelope[];
  subscribe(sessionId: string, after?: string): Promise<SubscribeAck>;
  /** Resolves once `predicate` holds for the envelopes received so far. */
  waitFor(predicate: (all: EventEnvelope[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
};

/**
 * A socket.io client that records every event envelope it receives, in arrival order. It
 * authenticates as the stack's user unless given another token.
 */
export async function connectCollector(
  gatewayUrl: string,
  token = tokenFor(gatewayUrl),
): Promise<Collector> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(gatewayUrl, {
    transports: ['websocket'],
    reconnection: false,
    ...(token === undefined ? {} : { auth: { token } }),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const envelopes: EventEnvelope[] = [];
  const waiters = new Set<() => void>();
  socket.on('event', (envelope) => {
    envelopes.push(envelope);
    for (const w of waiters) w();
  });
  return {
    socket,
    envelopes,
    subscribe: (sessionId, after) =>
      new Promise((resolve) =>
        socket.emit(
          'subscribe',
          after === undefined ? { sessionId } : { sessionId, after },
          resolve,
        ),
      ),
    waitFor(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(envelopes)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out; got ${envelopes.map((e) => e.event.type).join(',')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => socket.close(),
  };
}

export const finishedTurns = (all: EventEnvelope[]) =>
  all.flatMap((e) => (e.event.type === 'turn_finished' ? [e.event.turnId] : []));
