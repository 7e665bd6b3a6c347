import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import {
  FAIR_QUEUED_KEY,
  fairPriority,
  fairStarted,
  UserSlots,
  userSlotKeys,
} from './fair-queue.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

describe('fair priorities', () => {
  it('put every interactive turn before any batch turn, and the least-queued user first', async () => {
    const c = redis.client;
    const flood = [];
    for (let i = 0; i < 5; i++) flood.push(await fairPriority(c, 'batch', 'alice'));
    const bobBatch = await fairPriority(c, 'batch', 'bob');
    const carolChat = await fairPriority(c, 'interactive', 'carol');
    expect(flood).toEqual([...flood].sort((a, b) => a - b));
    expect(bobBatch).toBeLessThan(flood[1]!);
    expect(carolChat).toBeLessThan(Math.min(...flood, bobBatch));
    expect(Math.max(...flood, bobBatch)).toBeLessThan(2 ** 21);

    await fairStarted(c, 'batch', 'bob');
    await fairStarted(c, 'batch', 'bob'); // a second start never counts below zero
    expect(await c.hget(FAIR_QUEUED_KEY, 'batch:bob')).toBeNull();
    expect(await fairPriority(c, 'batch', 'bob')).toBe(bobBatch);
  });

  it('make BullMQ serve a late user before a flooding one', async () => {
    const name = 'fair-order';
    const queue = new Queue(name, { connection: { url: redis.url } });
    for (let i = 0; i < 20; i++) {
      await queue.add(
        't',
        { who: `a${i}` },
        { priority: await fairPriority(redis.client, 'batch', 'a') },
      );
    }
    await queue.add(
      't',
      { who: 'b0' },
      { priority: await fairPriority(redis.client, 'batch', 'b') },
    );
    await queue.add(
      't',
      { who: 'c0' },
      { priority: await fairPriority(redis.client, 'interactive', 'c') },
    );
    const order: string[] = [];
    const worker = new Worker(
      name,
      async (job) => {
        order.push(job.data.who);
      },
      { connection: { url: redis.url, maxRetriesPerRequest: null }, concurrency: 1 },
    );
    await new Promise<void>((resolve) => {
      worker.on('completed', () => order.length === 22 && resolve());
    });
    await worker.close();
    await queue.close();
    expect(order.slice(0, 3)).toEqual(['c0', 'a0', 'b0']);
    expect(order.slice(3)).toEqual(Array.from({ length: 19 }, (_, i) => `a${i + 1}`));
  });
});

describe('per-user slots', () => {
  it('admit up to the limit, park the rest, and wake the longest-parked job on release', async () => {
    const slots = new UserSlots(redis.client, { limit: 2, ttlMs: 10_000 });
    expect(await slots.admit('dana', 's1', 'j1')).toBe(true);
    expect(await slots.admit('dana', 's2', 'j2')).toBe(true);
    expect(await slots.admit('dana', 's1', 'j1b')).toBe(true); // the same session again
    expect(await slots.admit('dana', 's3', 'j3')).toBe(false);
    expect(await slots.admit('dana', 's4', 'j4')).toBe(false);
    expect(await slots.admit('erin', 's5', 'j5')).toBe(true); // other users are not affected
    expect(await slots.release('dana', 's1')).toBe('j3');
    expect(await slots.admit('dana', 's3', 'j3')).toBe(true);
    expect(await slots.release('dana', 's2')).toBe('j4');
    expect(await slots.release('dana', 's3')).toBeUndefined();
  });

  it('free the slots of a worker that stopped renewing them', async () => {
    const slots = new UserSlots(redis.client, { limit: 1, ttlMs: 1_000 });
    const now = Date.now();
    expect(await slots.admit('fay', 's1', 'j1', now)).toBe(true);
    expect(await slots.admit('fay', 's2', 'j2', now + 500)).toBe(false);
    await slots.renew('fay', 's1', now + 500);
    expect(await slots.admit('fay', 's2', 'j2', now + 1_200)).toBe(false);
    expect(await slots.admit('fay', 's2', 'j2', now + 1_600)).toBe(true);
    expect(await redis.client.zcard(userSlotKeys('fay').parked)).toBe(0);
  });

  it('admit everything when the limit is 0 (off)', async () => {
    const slots = new UserSlots(redis.client, { limit: 0, ttlMs: 1_000 });
    for (let i = 0; i < 5; i++) expect(await slots.admit('gus', `s${i}`, `j${i}`)).toBe(true);
  });
});
