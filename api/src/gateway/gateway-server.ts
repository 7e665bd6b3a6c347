import type { Server as HttpServer } from 'node:http';
import type { Logger } from '@tern/shared/obs/logger';
import { sessionIdSchema } from '@tern/shared/protocol/api';
import {
  type ClientToServerEvents,
  type EventEnvelope,
  type ServerToClientEvents,
  type SessionEvent,
  subscribeRequestSchema,
} from '@tern/shared/protocol/events';
import { compareStreamIds } from '@tern/shared/protocol/stream-ids';
import { redisKeys } from '@tern/shared/session/session-keys';
import type { SessionStore } from '@tern/shared/session/session-store';
import { Server, type Socket } from 'socket.io';
import { type RelayedEntry, StreamRelay } from './stream-relay.ts';

type TernSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

const room = (sessionId: string) => `s:${sessionId}`;

function toEnvelopes(sessionId: string, entries: RelayedEntry[]): EventEnvelope[] {
  const out: EventEnvelope[] = [];
  for (const { id, payload } of entries) {
    try {
      out.push({ id, sessionId, event: JSON.parse(payload) as SessionEvent });
    } catch {
      // A payload that is not JSON was not written by Tern; skip it rather than break the room.
    }
  }
  return out;
}

/**
 * socket.io rooms per session, fed from Redis Streams. A subscriber with a cursor first receives
 * what it missed (XRANGE), then joins the live room in the same tick as the relay's cursor is
 * checked, so every event reaches it exactly once and in order. The gateway keeps no state that
 * another gateway would need: the cursor travels with the client.
 */
export async function startGateway(
  httpServer: HttpServer,
  deps: { store: SessionStore; reader: SessionStore['redis']; logger: Logger },
) {
  const { store, logger } = deps;
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, {
    cors: { origin: true },
    serveClient: false,
  });

  const relay = new StreamRelay(store.redis, deps.reader, (sessionId, entries) => {
    const target = io.to(room(sessionId));
    for (const envelope of toEnvelopes(sessionId, entries)) target.emit('event', envelope);
  });
  await relay.start();

  io.of('/').adapter.on('delete-room', (name: string) => {
    if (name.startsWith('s:')) relay.unwatch(name.slice(2));
  });

  async function replay(socket: TernSocket, sessionId: string, after: string): Promise<string> {
    const key = redisKeys.events(sessionId);
    let from = after;
    for (;;) {
      const upTo = relay.cursor(sessionId) ?? (await relay.watch(sessionId));
      if (compareStreamIds(from, upTo) < 0) {
        const entries = await store.redis.xrange(key, `(${from}`, upTo);
        const relayed = entries.map(([id, fields]) => ({ id, payload: fields[1] ?? '{}' }));
        for (const envelope of toEnvelopes(sessionId, relayed)) socket.emit('event', envelope);
        from = upTo;
      }
      // No await between this check and the join: the relay cannot emit in between.
      if (relay.cursor(sessionId) === upTo) {
        await socket.join(room(sessionId));
        return upTo;
      }
    }
  }

  async function lostHistory(sessionId: string, after: string): Promise<boolean> {
    if (after === '0-0') return false;
    const info = (await store.redis
      .xinfo('STREAM', redisKeys.events(sessionId))
      .catch(() => null)) as unknown[] | null;
    if (!info) return false;
    const at = info.indexOf('max-deleted-entry-id');
    const maxDeleted = at >= 0 ? String(info[at + 1]) : '0-0';
    return compareStreamIds(after, maxDeleted) < 0;
  }

  io.on('connection', (socket: TernSocket) => {
    socket.on('subscribe', async (request, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const parsed = subscribeRequestSchema.safeParse(request);
      if (!parsed.success || !sessionIdSchema.safeParse(parsed.data.sessionId).success) {
        reply({
          ok: false,
          code: 'invalid_request',
          message: 'subscribe needs {sessionId, after?}',
        });
        return;
      }
      const { sessionId, after } = parsed.data;
      try {
        if (!(await store.meta(sessionId))) {
          reply({
            ok: false,
            code: 'session_not_found',
            message: `session ${sessionId} does not exist`,
          });
          return;
        }
        await relay.watch(sessionId);
        let lastEventId: string;
        if (after !== undefined && (await lostHistory(sessionId, after))) {
          socket.emit('reload', {
            sessionId,
            reason: 'the cursor is older than the retained events',
          });
          lastEventId = await replay(socket, sessionId, relay.cursor(sessionId) ?? '0-0');
        } else if (after !== undefined) {
          lastEventId = await replay(socket, sessionId, after);
        } else {
          lastEventId = await replay(socket, sessionId, relay.cursor(sessionId) ?? '0-0');
        }
        reply({ ok: true, lastEventId });
      } catch (error) {
        logger.error({ sessionId, err: (error as Error).message }, 'subscribe failed');
        reply({ ok: false, code: 'unavailable', message: 'the gateway cannot reach Redis' });
      }
    });
    socket.on('unsubscribe', (request) => {
      const sessionId = typeof request?.sessionId === 'string' ? request.sessionId : '';
      void socket.leave(room(sessionId));
    });
  });

  return {
    io,
    relay,
    close: async () => {
      relay.stop();
      await io.close();
    },
  };
}
