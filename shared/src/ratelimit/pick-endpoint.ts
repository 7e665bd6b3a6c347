/**
 * Which endpoint (API key or replica) of a provider a call goes to. The Redis script repeats this
 * choice inside its one atomic step, so two workers never pick on the same stale view.
 */
export type EndpointView = {
  /** Until its buckets hold the call and its cooldown is over; 0 when the call may go now. */
  waitMs: number;
  /** Of that wait, what its cooldown accounts for. */
  coolingMs: number;
  /** Calls in flight on it (0 when nobody tracks them). */
  load: number;
  /** At its concurrency limit. */
  full: boolean;
};

export type RefusalReason = 'rate_limit' | 'cooldown' | 'concurrency';

export type EndpointChoice =
  | { granted: true; index: number; waitMs: number }
  | { granted: false; reason: RefusalReason; retryAfterMs: number };

/**
 * The endpoint that can take the call soonest, then the least loaded, then the next in the
 * round-robin order that starts at `start`, so equal endpoints take turns. The call is granted
 * only when that wait is at most `maxWaitMs`; otherwise it learns when to ask again (`0` when
 * every endpoint is at its concurrency limit, where no time can be known).
 */
export function pickEndpoint(
  views: readonly EndpointView[],
  start: number,
  maxWaitMs: number,
): EndpointChoice {
  let best: number | undefined;
  for (let i = 0; i < views.length; i++) {
    const index = (start + i) % views.length;
    const view = views[index]!;
    if (view.full) continue;
    const current = best === undefined ? undefined : views[best]!;
    if (
      current === undefined ||
      view.waitMs < current.waitMs ||
      (view.waitMs === current.waitMs && view.load < current.load)
    ) {
      best = index;
    }
  }
  if (best === undefined) return { granted: false, reason: 'concurrency', retryAfterMs: 0 };
  const chosen = views[best]!;
  if (chosen.waitMs <= maxWaitMs) return { granted: true, index: best, waitMs: chosen.waitMs };
  const reason = chosen.coolingMs >= chosen.waitMs ? 'cooldown' : 'rate_limit';
  return { granted: false, reason, retryAfterMs: chosen.waitMs };
}
