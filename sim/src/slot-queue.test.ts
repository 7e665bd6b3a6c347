import { describe, expect, it } from 'vitest';
import { createSlotQueue } from './slot-queue.ts';

const never = new AbortController().signal;

describe('createSlotQueue', () => {
  it('grants slots up to the limit, then in arrival order as slots are released', async () => {
    const queue = createSlotQueue(1);
    const order: string[] = [];
    const releaseA = await queue.acquire(never);
    const b = queue.acquire(never).then((release) => {
      order.push('b');
      return release;
    });
    const c = queue.acquire(never).then((release) => {
      order.push('c');
      return release;
    });
    expect(queue).toMatchObject({ running: 1, waiting: 2 });
    releaseA();
    (await b)();
    (await c)();
    expect(order).toEqual(['b', 'c']);
    expect(queue).toMatchObject({ running: 0, waiting: 0 });
  });

  it('lets a waiter whose client went away leave the queue without taking a slot', async () => {
    const queue = createSlotQueue(1);
    const release = await queue.acquire(never);
    const gone = new AbortController();
    const waiting = queue.acquire(gone.signal);
    gone.abort(new Error('client left'));
    await expect(waiting).rejects.toThrow('client left');
    expect(queue.waiting).toBe(0);
    release();
    release(); // releasing twice must not free a second slot
    expect(queue.running).toBe(0);
  });
});
