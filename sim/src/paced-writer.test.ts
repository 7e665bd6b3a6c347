import { describe, expect, it } from 'vitest';
import { writePaced } from './paced-writer.ts';

const chunks = ['a', 'b', 'c', 'd'].map((data, step) => ({ data, step }));
const never = new AbortController().signal;

describe('writePaced', () => {
  it('writes a zero-latency stream in one write', async () => {
    const writes: string[] = [];
    expect(await writePaced(chunks, [0, 0, 0, 0], (d) => writes.push(d), never)).toBe(true);
    expect(writes).toEqual(['abcd']);
  });

  it('writes each chunk when due, in order', async () => {
    const writes: { data: string; at: number }[] = [];
    const start = performance.now();
    await writePaced(
      chunks,
      [0, 20, 40, 60],
      (data) => writes.push({ data, at: performance.now() - start }),
      never,
    );
    expect(writes.map((w) => w.data)).toEqual(['a', 'b', 'c', 'd']);
    // Within timer resolution: Node's timers may fire up to a millisecond or so early.
    expect(writes[3]!.at).toBeGreaterThanOrEqual(57);
  });

  it('stops at an abort and reports the stream unfinished', async () => {
    const controller = new AbortController();
    const writes: string[] = [];
    const done = writePaced(chunks, [0, 30, 60, 90], (d) => writes.push(d), controller.signal);
    setTimeout(() => controller.abort(), 10);
    expect(await done).toBe(false);
    expect(writes).toEqual(['a']);
  });

  it('asks a computed schedule for each step in order, only once the step is near', async () => {
    const asked: number[] = [];
    const writes: string[] = [];
    const dueAt = (step: number) => {
      asked.push(step);
      return step * 15;
    };
    await writePaced(chunks, dueAt, (d) => writes.push(d), never);
    expect(writes).toEqual(['a', 'b', 'c', 'd']);
    expect([...new Set(asked)]).toEqual([0, 1, 2, 3]);
    expect(asked).toEqual([...asked].sort((x, y) => x - y));
  });
});
