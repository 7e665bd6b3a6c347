import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.ts';

/**
 * Fair ordering of turns between users on one BullMQ queue, without BullMQ Pro's groups.
 *
 * Every turn job is prioritised: interactive turns in the lower half of BullMQ's priority range,
 * batch turns in the upper half, so any interactive turn runs before any batch turn. Within a
 * class, a job's priority is its user's count of queued jobs of that class: the user who has
 * queued least goes next, FIFO within a user. A user with 1000 queued batch turns therefore
 * does not delay another user's first one.
 */
export type TurnClass = 'interactive' | 'batch';

/** BullMQ priorities run from 1 to 2^21 - 1; each class gets half. */
const SPAN = 2 ** 20;
const BASE: Record<TurnClass, number> = { interactive: 0, batch: SPAN };
export const FAIR_QUEUED_KEY = 'tern:fair:queued';

const enqueueScript = new LuaScript('fair-enqueue-1.lua');
const dequeueScript = new LuaScript('fair-dequeue-1.lua');
const acquireScript = new LuaScript('user-slot-acquire-2.lua');
const releaseScript = new LuaScript('user-slot-release-2.lua');

const field = (cls: TurnClass, owner: string) => `${cls}:${owner}`;

/** Counts the job as queued and returns the priority to add it with. */
export async function fairPriority(redis: Redis, cls: TurnClass, owner: string): Promise<number> {
  return Number(
    await enqueueScript.run(redis, [FAIR_QUEUED_KEY], [field(cls, owner), BASE[cls], SPAN]),
  );
}

/** The job left the queue for a worker (its first start only). */
export async function fairStarted(redis: Redis, cls: TurnClass, owner: string): Promise<void> {
  await dequeueScript.run(redis, [FAIR_QUEUED_KEY], [field(cls, owner)]);
}

export const userSlotKeys = (owner: string) => ({
  active: `tern:fair:{${owner}}:active`,
  parked: `tern:fair:{${owner}}:parked`,
});

/**
 * Per-user limits on turns running at once, across every worker. A job over its user's limit is
 * parked (delayed, and listed); the end of one of that user's turns wakes the longest-parked
 * job, so waiting costs no worker slot and no polling. Slots expire unless renewed with the
 * session lease, so a dead worker's slots free themselves.
 */
export class UserSlots {
  readonly #redis: Redis;
  readonly #limit: number;
  readonly #ttlMs: number;

  constructor(redis: Redis, options: { limit: number; ttlMs: number }) {
    this.#redis = redis;
    this.#limit = options.limit;
    this.#ttlMs = options.ttlMs;
  }

  /** True when the session may run now; otherwise the job is listed as parked. */
  async admit(owner: string, sessionId: string, jobId: string, now = Date.now()) {
    if (this.#limit <= 0) return true;
    const keys = userSlotKeys(owner);
    const admitted = await acquireScript.run(
      this.#redis,
      [keys.active, keys.parked],
      [sessionId, now, this.#ttlMs, this.#limit, jobId],
    );
    return admitted === 1;
  }

  async renew(owner: string, sessionId: string, now = Date.now()): Promise<void> {
    if (this.#limit <= 0) return;
    await this.#redis.zadd(userSlotKeys(owner).active, 'XX', now + this.#ttlMs, sessionId);
  }

  /** Frees the session's slot; returns the parked job to wake, if any. */
  async release(owner: string, sessionId: string): Promise<string | undefined> {
    if (this.#limit <= 0) return undefined;
    const keys = userSlotKeys(owner);
    const woken = await releaseScript.run(this.#redis, [keys.active, keys.parked], [sessionId]);
    return typeof woken === 'string' ? woken : undefined;
  }
}
