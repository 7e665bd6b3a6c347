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

  it('admits a request only when its whole sequence fits in the KV cache, first come first served', async () => {
    const queue = createSlotQueue(4, 10);
    const a = await queue.acquire(never, 6);
    a.hold(2); // its prompt
    const order: string[] = [];
    // Slots are free, but 6 more reserved tokens do not fit; the small request queues behind.
    const b = queue.acquire(never, 6).then((lease) => {
      order.push('b');
      return lease;
    });
    const c = queue.acquire(never, 1).then((lease) => {
      order.push('c');
      return lease;
    });
    await Promise.resolve();
    // In use is what is held so far, not what is reserved.
    expect(queue).toMatchObject({ running: 1, waiting: 2, kvTokens: 2, kvUsage: 0.2 });
    a.hold(3); // generated steps
    expect(queue.kvTokens).toBe(5);
    a();
    const [leaseB, leaseC] = await Promise.all([b, c]);
    expect(order).toEqual(['b', 'c']);
    expect(queue).toMatchObject({ running: 2, waiting: 0, kvTokens: 0 });
    leaseB.hold(12);
    expect(queue.kvUsage).toBe(1); // a reply longer than reserved reads as a full cache
    leaseB();
    leaseC();
    expect(queue).toMatchObject({ running: 0, kvTokens: 0, kvUsage: 0 });
  });

  it('runs a sequence larger than the whole cache alone rather than never', async () => {
    const queue = createSlotQueue(4, 10);
    const lease = await queue.acquire(never, 50);
    const next = queue.acquire(never, 1);
    await Promise.resolve();
    expect(queue.waiting).toBe(1);
    lease();
    (await next)();
    expect(createSlotQueue(4).kvUsage).toBe(0);
  });
});
