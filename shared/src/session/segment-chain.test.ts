import { describe, expect, it } from 'vitest';
import { walkSegmentChain } from './segment-chain.ts';
import { segmentName } from './session-keys.ts';

const seg = (first: number, last: number, epoch: number, hash = 'a') =>
  segmentName(first, last, { epoch, sha256: hash.repeat(64) });

describe('segment chain', () => {
  it('follows the manifest first, then the listing', () => {
    const chain = walkSegmentChain(
      { items: [], lastSeq: 0 },
      [seg(1, 2, 1), seg(3, 3, 1)],
      [seg(1, 2, 1), seg(3, 3, 1), seg(4, 6, 1)],
    );
    expect(chain.items).toEqual([seg(1, 2, 1), seg(3, 3, 1), seg(4, 6, 1)]);
    expect(chain.lastSeq).toBe(6);
    expect(chain.unconfirmed).toEqual([seg(4, 6, 1)]);
  });

  it("prefers the newest lease's segment over a fenced writer's orphan", () => {
    // Epoch 2 wrote 3..4 and lost its lease; epoch 3 committed 3..3 and 4..5.
    const chain = walkSegmentChain(
      { items: [seg(1, 2, 1)], lastSeq: 2 },
      [],
      [seg(3, 4, 2, 'b'), seg(3, 3, 3), seg(4, 5, 3)],
    );
    expect(chain.items).toEqual([seg(1, 2, 1), seg(3, 3, 3), seg(4, 5, 3)]);
    expect(chain.ambiguous).toBe(1);
  });

  it('keeps a trusted item even when a newer orphan competes with it', () => {
    const chain = walkSegmentChain({ items: [], lastSeq: 0 }, [seg(1, 1, 1)], [seg(1, 2, 2)]);
    expect(chain.items).toEqual([seg(1, 1, 1)]);
  });

  it("walks a fork's items that live under its parent", () => {
    const chain = walkSegmentChain(
      { items: [], lastSeq: 0 },
      [`ses_parent/${seg(1, 4, 1)}`, segmentName(5, 6)],
      [],
    );
    expect(chain.items).toEqual([`ses_parent/${seg(1, 4, 1)}`, segmentName(5, 6)]);
    expect(chain.lastSeq).toBe(6);
  });

  it('stops at a gap', () => {
    const chain = walkSegmentChain({ items: [], lastSeq: 0 }, [], [seg(1, 1, 1), seg(3, 3, 1)]);
    expect(chain.lastSeq).toBe(1);
  });
});
