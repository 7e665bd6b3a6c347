import type { ClientToServerEvents, ServerToClientEvents } from '@tern/shared/protocol/events';
import { io, type Socket } from 'socket.io-client';

export type GatewaySocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * A socket.io client of the gateway, connected (websocket only, never reconnecting, so a test sees
 * a dropped connection as it is). Without a token it connects unauthenticated, to be refused.
 */
export async function connectGatewaySocket(
  gatewayUrl: string,
  token?: string,
): Promise<GatewaySocket> {
  const socket: GatewaySocket = io(gatewayUrl, {
    transports: ['websocket'],
    reconnection: false,
    ...(token === undefined ? {} : { auth: { token } }),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** What a socket received, in arrival order, and a wait for it to reach some state. */
export type Arrivals<T> = {
  readonly items: T[];
  push(item: T): void;
  /**
   * Resolves once `predicate` holds for the items so far (checked now and on each arrival), or
   * rejects after `timeoutMs` with `timedOut(items)` as the message.
   */
  until(
    predicate: (all: T[]) => boolean,
    timeoutMs: number,
    timedOut: (all: T[]) => string,
  ): Promise<void>;
};

export function arrivals<T>(): Arrivals<T> {
  const items: T[] = [];
  const waiters = new Set<() => void>();
  return {
    items,
    push(item) {
      items.push(item);
      for (const w of waiters) w();
    },
    until(predicate, timeoutMs, timedOut) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(items)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(timedOut(items)));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
