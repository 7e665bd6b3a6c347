import { describe, expect, it } from 'vitest';
import { adjust, chargeOf, refill, ttlOf, waitFor } from './token-bucket.ts';

const spec = { ratePerSec: 2, burst: 4 };

/** A seeded generator, so the property below is checked on the same calls every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

describe('token bucket', () => {
  it('starts full and refills continuously up to the burst', () => {
    const fresh = refill(spec, undefined, 1000);
    expect(fresh).toEqual({ level: 4, at: 1000 });
    const drained = adjust(spec, fresh, 4);
    expect(refill(spec, drained, 1250)).toEqual({ level: 0.5, at: 1250 });
    expect(refill(spec, drained, 60_000).level).toBe(4);
  });

  it('refills nothing when the clock goes back', () => {
    const state = { level: 1, at: 5000 };
    expect(refill(spec, state, 4000)).toBe(state);
  });

  it('says how long until a charge fits, rounding up to whole ms', () => {
    expect(waitFor(spec, { level: 4, at: 0 }, 1)).toBe(0);
    expect(waitFor(spec, { level: 0, at: 0 }, 1)).toBe(500);
    expect(waitFor({ ratePerSec: 3, burst: 4 }, { level: 0, at: 0 }, 1)).toBe(334);
  });

  it('lets a reservation drive the level below zero, and later callers wait behind it', () => {
    const empty = { level: 0, at: 0 };
    const first = adjust(spec, empty, 1);
    expect(waitFor(spec, empty, 1)).toBe(500);
    expect(waitFor(spec, first, 1)).toBe(1000);
    // Given back (the caller was aborted), the next caller waits as if it never came.
    expect(adjust(spec, first, -1)).toEqual(empty);
  });

  it('never refunds past the burst', () => {
    expect(adjust(spec, { level: 3.5, at: 0 }, -10).level).toBe(4);
  });

  it('clamps a charge larger than the bucket to the bucket', () => {
    expect(chargeOf(spec, 9)).toBe(4);
    expect(chargeOf(spec, 3)).toBe(3);
  });

  it('keeps a key until the bucket would be full again', () => {
    expect(ttlOf(spec, { level: 4, at: 0 })).toBe(1000);
    expect(ttlOf(spec, { level: -2, at: 0 })).toBe(4000);
  });

  it('never lets more than burst + rate × window through in any window, whoever asks when', () => {
    const random = seeded(7);
    const sent: number[] = [];
    let state = refill(spec, undefined, 0);
    let now = 0;
    for (let call = 0; call < 400; call++) {
      now += Math.floor(random() * 700);
      state = refill(spec, state, now);
      const wait = waitFor(spec, state, 1);
      state = adjust(spec, state, 1);
      sent.push(now + wait);
    }
    sent.sort((a, b) => a - b);
    let worst = 0;
    for (let i = 0; i < sent.length; i++) {
      for (let j = i; j < sent.length; j++) {
        const allowed = spec.burst + (spec.ratePerSec * (sent[j]! - sent[i]!)) / 1000;
        worst = Math.max(worst, j - i + 1 - allowed);
      }
    }
    expect(worst).toBeLessThanOrEqual(1e-9);
  });
});
