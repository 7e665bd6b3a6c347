import type {
  ClientToServerEvents,
  ServerToClientEvents,
  SubscribeAck,
} from '@tern/shared/protocol/events';
import { io, type Socket } from 'socket.io-client';

type Waiter = { type: 'turn_started' | 'turn_finished'; resolve: (streamMs: number) => void };

/**
 * One socket.io connection of a user that resolves waits for turns' start and finish, keeping
 * nothing else: a benchmark's own client must stay cheap next to what it measures. A wait
 * resolves with the event's publish time from its stream id (Redis's clock, ms).
 */
export async function watchTurns(gatewayUrl: string, token: string) {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(gatewayUrl, {
    transports: ['websocket'],
    reconnection: false,
    auth: { token },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const seen = new Map<string, number>();
  const waiters = new Map<string, Waiter[]>();
  let started = 0;
  socket.on('event', ({ id, event }) => {
    if (event.type !== 'turn_started' && event.type !== 'turn_finished') return;
    if (event.type === 'turn_started') started++;
    const key = `${event.type}:${event.turnId}`;
    const at = Number(id.split('-')[0]);
    seen.set(key, at);
    for (const w of waiters.get(key) ?? []) w.resolve(at);
    waiters.delete(key);
  });
  return {
    /** turn_started events received so far. */
    get started() {
      return started;
    },
    subscribe: (sessionId: string) =>
      new Promise<SubscribeAck>((resolve) =>
        socket.emit('subscribe', { sessionId, after: '0-0' }, resolve),
      ),
    wait(type: Waiter['type'], turnId: string, timeoutMs = 60_000): Promise<number> {
      const key = `${type}:${turnId}`;
      const at = seen.get(key);
      if (at !== undefined) return Promise.resolve(at);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${key} in ${timeoutMs} ms`)),
          timeoutMs,
        );
        const list = waiters.get(key) ?? [];
        list.push({
          type,
          resolve: (streamMs) => {
            clearTimeout(timer);
            resolve(streamMs);
          },
        });
        waiters.set(key, list);
      });
    },
    close: () => socket.close(),
  };
}
export type TurnWatcher = Awaited<ReturnType<typeof watchTurns>>;
