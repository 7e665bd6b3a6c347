import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SessionStore } from '../session/session-store.ts';
import { type TurnJobData, turnJobId, turnJobOptions } from './turn-queue.ts';

/**
 * Sessions whose input may be accepted but not yet queued. An input is appended (one Lua script)
 * and its turn job added (BullMQ's own script) in two steps; an API process dying between them
 * would leave the input waiting for the session's next message. So the API writes a ticket before
 * the append and removes it after the job is added, and a sweeper queues the turn of any session
 * whose ticket grew old.
 */
export const OUTBOX_KEY = 'tern:enqueue-outbox';
const SWEEP_LOCK_KEY = 'tern:enqueue-outbox:sweeper';

export type OutboxTicket = string;

/**
 * Records the ticket without waiting: it travels on the same connection as the append that
 * follows, so Redis applies it first, and the request pays no extra round trip.
 */
export function openTicket(redis: Redis, sessionId: string, now = Date.now()): OutboxTicket {
  const ticket = `${sessionId}|${randomBytes(6).toString('hex')}`;
  redis.zadd(OUTBOX_KEY, now, ticket).catch(() => {});
  return ticket;
}

/** The turn is queued (or the input was refused): nothing is left to recover. */
export function closeTicket(redis: Redis, ticket: OutboxTicket): void {
  redis.zrem(OUTBOX_KEY, ticket).catch(() => {});
}

export type SweepResult = { checked: number; requeued: string[] };

/**
 * Queues the first pending input of every session with a ticket older than `graceMs` (its API
 * request died, or is still stuck), then drops those tickets. The job id is the one the API would
 * have used, so a job that does exist is not added twice; one sweeper at a time across the
 * cluster (a short lock), since any worker may run it.
 */
export async function sweepOutbox(
  redis: Redis,
  store: SessionStore,
  queue: Queue<TurnJobData>,
  options: { graceMs: number; owner: string; now?: number },
): Promise<SweepResult | undefined> {
  const now = options.now ?? Date.now();
  const locked = await redis.set(SWEEP_LOCK_KEY, options.owner, 'PX', options.graceMs, 'NX');
  if (locked !== 'OK') return undefined;
  const stale = await redis.zrangebyscore(
    OUTBOX_KEY,
    '-inf',
    now - options.graceMs,
    'LIMIT',
    0,
    500,
  );
  const requeued: string[] = [];
  const sessions = new Set(stale.map((ticket) => ticket.slice(0, ticket.lastIndexOf('|'))));
  for (const sessionId of sessions) {
    const meta = await store.meta(sessionId);
    if (meta && meta.inputSeq > meta.doneInputSeq) {
      const inputSeq = meta.doneInputSeq + 1;
      await queue.add(
        'turn',
        { sessionId, inputSeq, enqueuedAt: now },
        turnJobOptions(turnJobId(sessionId, inputSeq)),
      );
      requeued.push(sessionId);
    }
  }
  if (stale.length > 0) await redis.zrem(OUTBOX_KEY, ...stale);
  return { checked: stale.length, requeued };
}
