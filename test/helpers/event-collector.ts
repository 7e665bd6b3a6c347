import type { EventEnvelope, SubscribeAck } from '@tern/shared/protocol/events';
import { tokenFor } from './auth-tokens.ts';
import { arrivals, connectGatewaySocket, type GatewaySocket } from './gateway-socket.ts';

export type Collector = {
  socket: GatewaySocket;
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
  const socket = await connectGatewaySocket(gatewayUrl, token);
  const envelopes = arrivals<EventEnvelope>();
  socket.on('event', (envelope) => envelopes.push(envelope));
  return {
    socket,
    envelopes: envelopes.items,
    subscribe: (sessionId, after) =>
      new Promise((resolve) =>
        socket.emit(
          'subscribe',
          after === undefined ? { sessionId } : { sessionId, after },
          resolve,
        ),
      ),
    waitFor: (predicate, timeoutMs = 20_000) =>
      envelopes.until(
        predicate,
        timeoutMs,
        (all) => `timed out; got ${all.map((e) => e.event.type).join(',')}`,
      ),
    close: () => socket.close(),
  };
}

export const finishedTurns = (all: EventEnvelope[]) =>
  all.flatMap((e) => (e.event.type === 'turn_finished' ? [e.event.turnId] : []));
