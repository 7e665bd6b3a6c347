/**
 * Token-bucket arithmetic of the provider limits, as pure functions. The in-memory limiter runs
 * it as is; `acquire-provider-call-n.lua` and `settle-provider-call-n.lua` repeat it step for step
 * in Redis, and their tests hold both to the same numbers.
 *
 * A bucket holds at most `burst` units and refills continuously at `ratePerSec`. A call takes its
 * units even when they are not there yet: the level goes below zero, and the call waits until the
 * refill would have brought it back to zero. That reservation is what lets a caller sleep once,
 * for a known time, instead of asking again and again; and since later callers see the debt,
 * waiting calls go out in the order they reserved. Whatever the callers do, in any window of `w`
 * seconds at most `burst + ratePerSec * w` units are spent.
 */
export type BucketSpec = { ratePerSec: number; burst: number };

/** `level` units at time `at` (ms); a bucket never seen is full. */
export type BucketState = { level: number; at: number };

export function refill(spec: BucketSpec, state: BucketState | undefined, now: number): BucketState {
  if (!state) return { level: spec.burst, at: now };
  // A clock that went back (a failover to a replica behind) refills nothing rather than draining.
  if (now <= state.at) return state;
  const level = Math.min(spec.burst, state.level + ((now - state.at) * spec.ratePerSec) / 1000);
  return { level, at: now };
}

/**
 * What a call of `cost` units takes: never more than the whole bucket, or a call larger than the
 * burst (a long prompt against a small tokens-per-minute limit) could never go out.
 */
export const chargeOf = (spec: BucketSpec, cost: number): number => Math.min(cost, spec.burst);

/** Milliseconds until a refilled bucket holds `charge` units; 0 when it does now. */
export function waitFor(spec: BucketSpec, state: BucketState, charge: number): number {
  const missing = charge - state.level;
  return missing <= 0 ? 0 : Math.ceil((missing * 1000) / spec.ratePerSec);
}

/**
 * `delta` units more (or, negative, fewer) than were taken: a call whose real usage differs from
 * its estimate, or a reservation given back. Never above the burst.
 */
export function adjust(spec: BucketSpec, state: BucketState, delta: number): BucketState {
  return { level: Math.min(spec.burst, state.level - delta), at: state.at };
}

/** How long a bucket key must live: until it would be full again, when it equals no key. */
export const ttlOf = (spec: BucketSpec, state: BucketState): number =>
  Math.ceil(((spec.burst - state.level) * 1000) / spec.ratePerSec) + 1000;
