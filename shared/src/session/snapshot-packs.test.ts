import { describe, expect, it } from 'vitest';
import { coversFromStart, foldTail, type PackRef, parsePacks } from './snapshot-packs.ts';

/** Folds `count` tails of `every` one-entry segments, as the mirror does. */
function fold(count: number, every: number) {
  let packs: PackRef[] = [];
  const written: PackRef[] = [];
  for (let i = 0; i < count; i++) {
    const first = (packs.at(-1)?.last ?? 0) + 1;
    const next = foldTail(packs, { first, last: first + every - 1, items: every });
    packs = next.packs;
    written.push(next.write);
  }
  return { packs, written };
}

describe('snapshot packs', () => {
  it('merge like a binary counter: few packs, each entry rewritten about log2(n) times', () => {
    const { packs, written } = fold(625, 8);
    expect(coversFromStart(packs)).toBe(true);
    expect(packs.at(-1)?.last).toBe(5000);
    // 625 = 0b1001110001: one pack per set bit.
    expect(packs.map((p) => p.items)).toEqual([4096, 512, 256, 128, 8]);
    const rewritten = written.reduce((n, p) => n + p.items, 0) / 5000;
    expect(rewritten).toBeLessThan(Math.log2(625) + 1);
  });

  it('folds a tail larger than the interval (a mirror that fell behind) without a gap', () => {
    const first = foldTail([], { first: 1, last: 20, items: 20 });
    const second = foldTail(first.packs, { first: 21, last: 28, items: 8 });
    expect(second.packs).toEqual([
      { first: 1, last: 20, items: 20 },
      { first: 21, last: 28, items: 8 },
    ]);
    const third = foldTail(second.packs, { first: 29, last: 50, items: 22 });
    expect(third.packs).toEqual([{ first: 1, last: 50, items: 50 }]);
    expect(third.write).toEqual({ first: 1, last: 50, items: 50 });
  });

  it('reads only a consistent list from the meta hash', () => {
    expect(
      parsePacks('[{"first":1,"last":8,"items":2},{"first":9,"last":9,"items":1}]'),
    ).toHaveLength(2);
    expect(parsePacks('[{"first":2,"last":8,"items":2}]')).toBeUndefined();
    expect(
      parsePacks('[{"first":1,"last":8,"items":2},{"first":10,"last":12,"items":1}]'),
    ).toBeUndefined();
    expect(parsePacks('not json')).toBeUndefined();
    expect(parsePacks(null)).toBeUndefined();
  });
});
