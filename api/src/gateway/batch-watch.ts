import type { UserStore } from '@tern/shared/auth/user-store';
import { batchKeys } from '@tern/shared/batch/batch-keys';
import type { BatchStore } from '@tern/shared/batch/batch-store';
import { parseBatchStreamEntry } from '@tern/shared/batch/batch-stream-entry';
import type { Logger } from '@tern/shared/obs/logger';
import { watchBatchSchema } from '@tern/shared/protocol/batch-api';
import { compareStreamIds } from '@tern/shared/protocol/stream-ids';
import type { Redis } from 'ioredis';
import { bufferedOf, isDrained, waitForDrain } from './client-backpressure.ts';
import { currentCaller, type GatewayServer, type GatewaySocket } from './gateway-auth.ts';

/** Batches one socket may watch at once. */
const MAX_WATCHES_PER_SOCKET = 100;
/**
 * How long one blocking read waits. A batch watched meanwhile joins the read at the next round;
 * its watcher does not wait for that, since it reads its own backlog when it starts.
 */
const BLOCK_MS = 1000;

type XReadReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

/** One socket following one batch: what it was sent last, and whether it is being sent more. */
type Watcher = {
  socket: GatewaySocket;
  batchId: string;
  cursor: string;
  draining: boolean;
  again: boolean;
};

/**
 * `watch_batch` / `unwatch_batch`: a socket follows a batch's event stream from after its cursor.
 * Batch events are few (one or two per finished target), so each watcher is sent its own events
 * from its own cursor with XRANGE, and one blocking XREAD over every watched batch, on a connection
 * of its own, only says when to look again. A watcher therefore gets every event after its cursor
 * once and in order, whatever the timing of watch, reads and appends. Ownership is checked as for
 * session subscriptions: another user's batch looks like one that does not exist.
 */
export function startBatchWatch(
  io: GatewayServer,
  deps: {
    batches: BatchStore;
    users: UserStore;
    logger: Logger;
    /** Events sent per read; the socket must drain before the next page. */
    pageSize: number;
  },
) {
  const { batches, users, logger } = deps;
  const redis = batches.redis;
  const reader: Redis = redis.duplicate();
  /** batchId → socketId → watcher. */
  const watchers = new Map<string, Map<string, Watcher>>();
  /** batchId → the last stream id the blocking read has seen. */
  const seen = new Map<string, string>();
  let running = true;
  let wake: (() => void) | undefined;

  const holds = (w: Watcher) =>
    w.socket.connected && watchers.get(w.batchId)?.get(w.socket.id) === w;

  /** Sends a watcher everything after its cursor; a call while it is sending makes it look again. */
  async function drain(w: Watcher): Promise<void> {
    if (w.draining) {
      w.again = true;
      return;
    }
    w.draining = true;
    try {
      do {
        w.again = false;
        for (;;) {
          const key = batchKeys.events(w.batchId);
          const start = w.cursor === '0-0' ? '-' : `(${w.cursor}`;
          const page = await redis.xrange(key, start, '+', 'COUNT', deps.pageSize);
          if (!holds(w)) return;
          // Checked after the read: trimming only moves forward, so an untrimmed cursor now
          // means the page just read has no gap.
          if (await lostHistory(w.batchId, w.cursor)) {
            w.socket.emit('batch_reload', {
              batchId: w.batchId,
              reason: 'the cursor is older than the retained batch events',
            });
            w.cursor = await batches.lastEventId(w.batchId);
            continue;
          }
          for (const [id, fields] of page) {
            const event = parseBatchStreamEntry(fields);
            // An entry this version cannot read is skipped, not allowed to stop the stream.
            if (event) w.socket.emit('batch_event', { id, event });
            w.cursor = id;
          }
          if (page.length < deps.pageSize) break;
          if (!isDrained(bufferedOf(w.socket.conn)) && !(await waitForDrain(w.socket.conn))) {
            return;
          }
          if (!holds(w)) return;
        }
      } while (w.again && holds(w));
    } finally {
      w.draining = false;
    }
  }

  /**
   * Whether events after `after` were trimmed: the cursor is older than every retained entry
   * (see gateway-server.ts `lostHistory`). The stream is trimmed with `MAXLEN ~`, which always
   * keeps the newest entries, so an empty stream lost nothing.
   */
  async function lostHistory(batchId: string, after: string): Promise<boolean> {
    if (after === '0-0') return false;
    const oldest = (await redis.xrange(batchKeys.events(batchId), '-', '+', 'COUNT', 1))[0]?.[0];
    return oldest !== undefined && compareStreamIds(after, oldest) < 0;
  }

  async function loop(): Promise<void> {
    while (running) {
      if (watchers.size === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const ids = [...watchers.keys()].filter((id) => seen.has(id));
      if (ids.length === 0) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      let reply: XReadReply;
      try {
        reply = (await reader.xread(
          'COUNT',
          1000,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          ...ids.map((id) => batchKeys.events(id)),
          ...ids.map((id) => seen.get(id)!),
        )) as XReadReply;
      } catch (error) {
        if (!running) return;
        // Redis went away: watchers keep their cursors, so nothing is skipped once it is back.
        logger.warn({ err: (error as Error).message }, 'batch watch read failed');
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const [key, entries] of reply ?? []) {
        const batchId = ids[ids.findIndex((id) => batchKeys.events(id) === key)];
        const last = entries.at(-1)?.[0];
        if (batchId === undefined || last === undefined) continue;
        if (seen.has(batchId)) seen.set(batchId, last);
        for (const w of watchers.get(batchId)?.values() ?? []) void drainLogged(w);
      }
    }
  }

  function drainLogged(w: Watcher): Promise<void> {
    return drain(w).catch((error: unknown) => {
      logger.error({ batchId: w.batchId, err: (error as Error).message }, 'batch watch failed');
      if (holds(w)) {
        w.socket.emit('batch_reload', { batchId: w.batchId, reason: 'the gateway lost Redis' });
      }
    });
  }

  function remove(socketId: string, batchId: string): void {
    const of = watchers.get(batchId);
    if (!of?.delete(socketId) || of.size > 0) return;
    watchers.delete(batchId);
    seen.delete(batchId);
  }

  const watchedBy = (socketId: string) =>
    [...watchers.entries()].filter(([, of]) => of.has(socketId)).map(([id]) => id);

  io.on('connection', (socket: GatewaySocket) => {
    socket.on('watch_batch', async (request, ack) => {
      const reply = typeof ack === 'function' ? ack : () => {};
      const parsed = watchBatchSchema.safeParse(request);
      if (!parsed.success) {
        reply({
          ok: false,
          code: 'invalid_request',
          message: 'watch_batch needs {batchId: bat_…, lastEventId?: <stream id>}',
        });
        return;
      }
      const { batchId, lastEventId } = parsed.data;
      try {
        const caller = await currentCaller(socket, users, reply);
        if (!caller) return;
        const owner = await batches.owner(batchId);
        if (owner === undefined || (!caller.admin && owner !== caller.id)) {
          reply({
            ok: false,
            code: 'batch_not_found',
            message: `batch ${batchId} does not exist`,
          });
          return;
        }
        const others = watchedBy(socket.id).filter((id) => id !== batchId);
        if (others.length >= MAX_WATCHES_PER_SOCKET) {
          reply({
            ok: false,
            code: 'too_many_watches',
            message: `a connection may watch ${MAX_WATCHES_PER_SOCKET} batches at once`,
          });
          return;
        }
        // The blocking read starts from the stream's end as of now, before the watcher reads
        // its backlog: whatever is appended after that wakes it.
        if (!seen.has(batchId)) {
          const end = await batches.lastEventId(batchId);
          // Another watch of the batch may have set it meanwhile, from an earlier end: kept.
          if (!seen.has(batchId)) seen.set(batchId, end);
        }
        const cursor = lastEventId ?? (await batches.lastEventId(batchId));
        const w: Watcher = { socket, batchId, cursor, draining: false, again: false };
        const of = watchers.get(batchId) ?? new Map<string, Watcher>();
        of.set(socket.id, w); // replaces an earlier watch of the same batch: its sending stops
        watchers.set(batchId, of);
        wake?.();
        wake = undefined;
        await drain(w);
        if (!holds(w)) {
          reply({ ok: false, code: 'unavailable', message: 'the watch was closed' });
          return;
        }
        reply({ ok: true, lastEventId: w.cursor });
      } catch (error) {
        logger.error({ batchId, err: (error as Error).message }, 'watch_batch failed');
        reply({ ok: false, code: 'unavailable', message: 'the gateway cannot reach Redis' });
      }
    });
    socket.on('unwatch_batch', (request) => {
      const batchId = typeof request?.batchId === 'string' ? request.batchId : '';
      remove(socket.id, batchId);
    });
    socket.on('disconnect', () => {
      for (const batchId of watchedBy(socket.id)) remove(socket.id, batchId);
    });
  });

  void loop();
  return {
    /** Batches watched by at least one socket of this gateway. */
    watched: () => watchers.size,
    close: async () => {
      running = false;
      wake?.();
      reader.disconnect();
    },
  };
}
