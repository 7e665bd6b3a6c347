import type { Server as HttpServer } from 'node:http';
import { followRevocations } from '@tern/shared/auth/revocation-feed';
import type { UserStore } from '@tern/shared/auth/user-store';
import { BatchStore } from '@tern/shared/batch/batch-store';
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
import { type DefaultEventsMap, Server } from 'socket.io';
import { startBatchWatch } from './batch-watch.ts';
import {
  type BackpressureLimits,
  bufferedOf,
  defaultBackpressureLimits,
  isBackedUp,
  isDrained,
  waitForDrain,
} from './client-backpressure.ts';
import {
  authenticateHandshake,
  currentCaller,
  dropRevoked,
  type GatewayServer,
  type GatewaySocket,
  type GatewaySocketData,
  recheckAll,
} from './gateway-auth.ts';
import { PausedClients } from './paused-clients.ts';
import { type RelayedEntry, StreamRelay } from './stream-relay.ts';

type TernSocket = GatewaySocket;

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
 *
 * Backpressure: a client that cannot read as fast as its sessions stream leaves their rooms
 * before the batch it would fall behind on, and is caught up by the same replay, page by page,
 * once its socket drains. The room broadcast stays the path of every client that keeps up.
 */
export async function startGateway(
  httpServer: HttpServer,
  deps: {
    store: SessionStore;
    reader: SessionStore['redis'];
    users: UserStore;
    logger: Logger;
    /** Told of every batch the relay reads (`firstId`: its oldest event), for the relay lag. */
    onRelayed?: (firstId: string, count: number) => void;
    /** When a client counts as too slow for the live room (defaults: GATEWAY_CLIENT_* in config). */
    backpressure?: BackpressureLimits;
    /** Told when a subscription is paused for a slow client and when it rejoins its live room. */
    onSlowClient?: (what: 'paused' | 'resumed' | 'reloaded') => void;
  },
) {
  const { store, users, logger } = deps;
  const limits = deps.backpressure ?? defaultBackpressureLimits;
  const paused = new PausedClients();
  const resuming = new Set<string>();
  const io: GatewayServer = new Server<
    ClientToServerEvents,
    ServerToClientEvents,
    DefaultEventsMap,
    GatewaySocketData
  >(httpServer, {
    cors: { origin: true },
    serveClient: false,
  });
  io.use(authenticateHandshake(users, logger));
  const stopRevocations = await followRevocations(store.redis, {
    revoked: (hashes) => {
      const dropped = dropRevoked(io, hashes);
      if (dropped > 0) logger.info({ dropped }, 'closed sockets of revoked tokens');
    },
    resync: () => {
      recheckAll(io, users).catch((error: unknown) =>
        logger.error({ err: (error as Error).message }, 'token recheck failed'),
      );
    },
  });

  const relay = new StreamRelay(store.redis, deps.reader, (sessionId, entries, previousId) => {
    if (entries[0]) deps.onRelayed?.(entries[0].id, entries.length);
    pauseBackedUp(sessionId, previousId);
    const target = io.to(room(sessionId));
    for (const envelope of toEnvelopes(sessionId, entries)) target.emit('event', envelope);
  });
  await relay.start();

  const batchWatch = startBatchWatch(io, {
    batches: new BatchStore(store.redis, store.blobs),
    users,
    logger,
    pageSize: limits.pageSize,
  });

  io.of('/').adapter.on('delete-room', (name: string) => {
    if (name.startsWith('s:')) relay.unwatch(name.slice(2));
  });

  /**
   * Sends a socket the events after `after`, in pages of `limits.pageSize`, waiting for it to
   * drain between pages, then joins it to the live room. Returns the id it is caught up to;
   * `lost` when events after `after` were trimmed (the client must reload); `gone` when `holds`
   * turned false (the client left, or another subscribe took over) and nothing more was sent.
   */
  async function replay(
    socket: TernSocket,
    sessionId: string,
    after: string,
    holds: () => boolean = () => socket.connected,
  ): Promise<string | 'lost' | 'gone'> {
    const key = redisKeys.events(sessionId);
    let from = after;
    for (;;) {
      const upTo = relay.cursor(sessionId) ?? (await relay.watch(sessionId));
      if (!holds()) return 'gone';
      if (compareStreamIds(from, upTo) < 0) {
        const entries = await store.redis.xrange(key, `(${from}`, upTo, 'COUNT', limits.pageSize);
        // Checked after the read: trimming only moves forward, so if nothing after `from` had
        // been trimmed by now, the page read before has no gap.
        if (await lostHistory(sessionId, from)) return 'lost';
        if (!holds()) return 'gone';
        const relayed = entries.map(([id, fields]) => ({ id, payload: fields[1] ?? '{}' }));
        for (const envelope of toEnvelopes(sessionId, relayed)) socket.emit('event', envelope);
        from = entries.at(-1)?.[0] ?? upTo;
        if (!isDrained(bufferedOf(socket.conn)) && !(await waitForDrain(socket.conn))) {
          return 'gone';
        }
        continue;
      }
      // No await between this check and the join: the relay cannot emit in between.
      if (relay.cursor(sessionId) === upTo) {
        await socket.join(room(sessionId));
        return upTo;
      }
    }
  }

  /** A replay that tells the client to reload, and starts it from now, when its cursor is lost. */
  async function catchUp(
    socket: TernSocket,
    sessionId: string,
    after: string,
    holds?: () => boolean,
  ): Promise<string | 'gone'> {
    const caughtUp = await replay(socket, sessionId, after, holds);
    if (caughtUp !== 'lost') return caughtUp;
    socket.emit('reload', { sessionId, reason: 'the cursor is older than the retained events' });
    deps.onSlowClient?.('reloaded');
    const now = relay.cursor(sessionId) ?? (await relay.watch(sessionId));
    const restarted = await replay(socket, sessionId, now, holds);
    // Nothing after `now` can be trimmed yet unless the stream outran its whole retention.
    return restarted === 'lost' ? 'gone' : restarted;
  }

  /** Takes the room's backed-up sockets out of it before a batch they would fall behind on. */
  function pauseBackedUp(sessionId: string, previousId: string): void {
    const members = io.of('/').adapter.rooms.get(room(sessionId));
    if (!members) return;
    const slow: TernSocket[] = [];
    for (const id of members) {
      const socket = io.of('/').sockets.get(id);
      if (socket && isBackedUp(bufferedOf(socket.conn), limits)) slow.push(socket);
    }
    for (const socket of slow) {
      if (paused.pause(socket.id, sessionId, previousId) === undefined) continue;
      void socket.leave(room(sessionId));
      deps.onSlowClient?.('paused');
      logger.info(
        { sessionId, socketId: socket.id, lastEventId: previousId, ...bufferedOf(socket.conn) },
        'paused a slow client',
      );
      if (!resuming.has(socket.id)) void resumeWhenDrained(socket);
    }
  }

  /** Catches a paused socket up on each paused session every time it drains, until none is left. */
  async function resumeWhenDrained(socket: TernSocket): Promise<void> {
    resuming.add(socket.id);
    try {
      while (paused.has(socket.id)) {
        if (!(await waitForDrain(socket.conn))) break;
        for (const { sessionId, lastSentId, ticket } of paused.of(socket.id)) {
          const holds = () => socket.connected && paused.holds(socket.id, sessionId, ticket);
          try {
            const caughtUp = await catchUp(socket, sessionId, lastSentId, holds);
            if (caughtUp === 'gone') continue;
            paused.end(socket.id, sessionId);
            deps.onSlowClient?.('resumed');
            logger.info(
              { sessionId, socketId: socket.id, from: lastSentId, lastEventId: caughtUp },
              'resumed a slow client',
            );
          } catch (error) {
            // The client cannot be caught up without Redis; reloading later is its way back.
            if (holds()) {
              paused.end(socket.id, sessionId);
              socket.emit('reload', { sessionId, reason: 'the gateway could not catch up' });
            }
            logger.error({ sessionId, err: (error as Error).message }, 'catch-up failed');
          }
        }
      }
    } finally {
      resuming.delete(socket.id);
      if (!socket.connected) paused.end(socket.id);
    }
  }

  /**
   * Whether events after `after` were trimmed. Trimming (XADD MAXLEN) leaves the stream's
   * max-deleted-entry-id alone (only XDEL moves it), so the cursor is compared with the oldest
   * entry left: a client's cursor is an id it was sent, so one older than every retained entry
   * was trimmed with whatever followed it (when it was the very last one trimmed, the client
   * reloads needlessly, which is safe). `0-0` asks for whatever is retained.
   */
  async function lostHistory(sessionId: string, after: string): Promise<boolean> {
    if (after === '0-0') return false;
    const key = redisKeys.events(sessionId);
    const oldest = (await store.redis.xrange(key, '-', '+', 'COUNT', 1))[0]?.[0];
    if (oldest !== undefined) return compareStreamIds(after, oldest) < 0;
    // An empty stream was trimmed to nothing, or never written (then XINFO fails: nothing lost).
    const info = (await store.redis.xinfo('STREAM', key).catch(() => null)) as unknown[] | null;
    const at = info?.indexOf('last-generated-id') ?? -1;
    return at >= 0 && compareStreamIds(after, String(info?.[at + 1])) < 0;
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
        const caller = await currentCaller(socket, users, reply);
        if (!caller) return;
        // Another user's session looks like an unknown one.
        const meta = await store.meta(sessionId);
        if (!meta || (!caller.admin && meta.owner !== caller.id)) {
          reply({
            ok: false,
            code: 'session_not_found',
            message: `session ${sessionId} does not exist`,
          });
          return;
        }
        const from = after ?? (await relay.watch(sessionId));
        // This subscribe replaces any paused one of the same session: its catch-up stops.
        paused.end(socket.id, sessionId);
        const lastEventId = await catchUp(socket, sessionId, from);
        if (lastEventId === 'gone') {
          reply({ ok: false, code: 'unavailable', message: 'the subscription was closed' });
          return;
        }
        reply({ ok: true, lastEventId });
      } catch (error) {
        logger.error({ sessionId, err: (error as Error).message }, 'subscribe failed');
        reply({ ok: false, code: 'unavailable', message: 'the gateway cannot reach Redis' });
      }
    });
    socket.on('unsubscribe', (request) => {
      const sessionId = typeof request?.sessionId === 'string' ? request.sessionId : '';
      paused.end(socket.id, sessionId);
      void socket.leave(room(sessionId));
    });
    socket.on('disconnect', () => paused.end(socket.id));
  });

  return {
    io,
    relay,
    batchWatch,
    /** Subscriptions paused for slow clients right now. */
    pausedSubscriptions: () => paused.size(),
    close: async () => {
      relay.stop();
      await batchWatch.close();
      stopRevocations();
      await io.close();
    },
  };
}
