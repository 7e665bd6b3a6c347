/**
 * How many batch requests to keep in flight against one vLLM server, decided from periodic
 * samples of its `/metrics` (see `vllm-metrics-reader.ts`) and our own in-flight count. Pure: the
 * caller samples, calls `adaptConcurrency`, and sends or holds back requests to match `limit`.
 *
 * The server's throughput rises with the requests it batches, up to what it can run at once: its
 * slots (`--max-num-seqs`), or fewer when their sequences fill the KV cache. Past that, requests
 * wait in its queue, adding latency and no throughput. That capacity is unknown and moves with
 * sequence lengths and with other users' traffic, so the controller estimates it, in the spirit
 * of TCP's slow start and congestion avoidance but with a memory instead of a sawtooth:
 *
 * - **Discover.** Start small and grow by `growthFactor` per sample while nothing waits at the
 *   server and we actually fill our limit (growing an unused limit only allows a burst later).
 * - **Back off to what fits.** When requests wait (more than `queueTarget`; one or two only if
 *   they are still waiting at the next sample, since vLLM counts a request as waiting until its
 *   next scheduler step) the server is full: what it runs now is its slot capacity. The limit
 *   drops straight to that capacity less our headroom, rather than halving: halving and creeping
 *   back would leave the GPU a quarter idle on average, as TCP's sawtooth leaves a link.
 * - **KV cache.** Each sample also says how many requests of the current mix would fill the
 *   cache to `kvTarget` (`running × kvTarget / usage`); the capacity is the smaller of that and
 *   the slots, so the limit follows the cache down as sequences grow and up as they shrink,
 *   before vLLM has to preempt.
 * - **Headroom.** Requests that are not ours (`running + waiting - inFlight`: interactive
 *   sessions, other users) and a reserve of free slots are left out of our share, so an
 *   interactive request finds a free slot instead of queueing behind the batch; when others
 *   queue, our share shrinks and the batch requests that finish are not replaced.
 * - **Rediscover.** After `rediscoverAfter` calm samples at the ceiling the slot estimate is
 *   dropped and the limit creeps up by one per sample until requests wait again, so a server
 *   restarted with more slots is found; the cost is a few requests over the reserve meanwhile.
 *
 * The limit never exceeds `max` nor falls below `min`.
 */

export type ConcurrencySample = {
  /** `vllm:num_requests_running`: requests in the server's batch, ours and others'. */
  running: number;
  /** `vllm:num_requests_waiting`: requests queued at the server. */
  waiting: number;
  /** `vllm:kv_cache_usage_perc`, 0..1. */
  kvCacheUsage: number;
  /** Our batch requests sent and not yet answered when the sample was taken. */
  inFlight: number;
};

export type AdaptiveConcurrencyOptions = {
  /** Never more batch requests in flight than this. */
  max: number;
  /** Never fewer (default 1). */
  min?: number;
  /** Where discovery starts (default min(4, max)). */
  initial?: number;
  /** Slots left free for interactive traffic: this share of the capacity (default 0.05)… */
  reserveFraction?: number;
  /** …and at least this many (default 1). */
  reserveMin?: number;
  /** Our requests allowed to wait at the server, to keep its batch full between ours (default 0). */
  queueTarget?: number;
  /** KV-cache usage the controller keeps below, leaving vLLM room to decode (default 0.9). */
  kvTarget?: number;
  /** Growth per sample during discovery (default 1.5). */
  growthFactor?: number;
  /** Calm samples at the ceiling before the slot estimate is rediscovered (default 300). */
  rediscoverAfter?: number;
};

export type ConcurrencyState = {
  limit: number;
  /** Slots the server was seen to run at once when full; undefined until then. */
  capacity: number | undefined;
  /** Growing multiplicatively until the server first fills. */
  discovering: boolean;
  /** Consecutive calm samples spent at the ceiling. */
  calm: number;
  /** Consecutive samples with one or two requests waiting, not yet acted on. */
  queued: number;
};

export type ConcurrencyReason =
  /** Nothing waits and we fill our limit: one more (or half as many more while discovering). */
  | 'grow'
  /** Our share is used up; nothing to do. */
  | 'at_ceiling'
  /** Our share shrank under the limit: others arrived, or the KV cache fills. */
  | 'over_ceiling'
  /** We do not fill the limit we have. */
  | 'app_limited'
  /** One or two requests wait: believed if they still do at the next sample. */
  | 'queue_seen'
  /** Requests wait: the server is full; back to its capacity less the headroom. */
  | 'queueing'
  /** The slot estimate is dropped to look for a server that grew. */
  | 'rediscover'
  | 'bad_sample';

export type ConcurrencyDecision = {
  state: ConcurrencyState;
  /** How many batch requests to keep in flight now. */
  limit: number;
  reason: ConcurrencyReason;
  /** Requests of others (interactive) the server was running or queueing. */
  others: number;
  /** The capacity the decision assumed: slots, or the KV cache's room if smaller. */
  capacity: number | undefined;
};

type Resolved = Required<AdaptiveConcurrencyOptions>;

export function resolveConcurrencyOptions(options: AdaptiveConcurrencyOptions): Resolved {
  const max = Math.floor(options.max);
  const min = Math.floor(options.min ?? 1);
  if (!(min >= 1) || !(max >= min)) throw new RangeError('need 1 <= min <= max');
  const resolved: Resolved = {
    max,
    min,
    initial: clamp(Math.floor(options.initial ?? 4), min, max),
    reserveFraction: options.reserveFraction ?? 0.05,
    reserveMin: options.reserveMin ?? 1,
    queueTarget: options.queueTarget ?? 0,
    kvTarget: options.kvTarget ?? 0.9,
    growthFactor: options.growthFactor ?? 1.5,
    rediscoverAfter: options.rediscoverAfter ?? 300,
  };
  if (!(resolved.kvTarget > 0 && resolved.kvTarget <= 1)) {
    throw new RangeError('kvTarget must be in (0, 1]');
  }
  if (!(resolved.growthFactor > 1)) throw new RangeError('growthFactor must be > 1');
  if (resolved.reserveFraction < 0 || resolved.reserveMin < 0 || resolved.queueTarget < 0) {
    throw new RangeError('reserve and queueTarget must be >= 0');
  }
  return resolved;
}

export function initialConcurrencyState(options: AdaptiveConcurrencyOptions): ConcurrencyState {
  const o = resolveConcurrencyOptions(options);
  return { limit: o.initial, capacity: undefined, discovering: true, calm: 0, queued: 0 };
}

/** One control step: the new state and limit after a sample of the server's load. */
export function adaptConcurrency(
  state: ConcurrencyState,
  sample: ConcurrencySample,
  options: AdaptiveConcurrencyOptions,
): ConcurrencyDecision {
  const o = resolveConcurrencyOptions(options);
  const { running, waiting, kvCacheUsage: kv, inFlight } = sample;
  if (![running, waiting, kv, inFlight].every((n) => Number.isFinite(n) && n >= 0)) {
    return decide(state, state.limit, 'bad_sample', 0, state.capacity, o);
  }
  const others = Math.max(0, running + waiting - inFlight);
  // How many requests like the running ones would bring the cache to kvTarget.
  const kvRoom =
    kv > 0 && running > 0 ? Math.floor((running * o.kvTarget) / kv) : Number.POSITIVE_INFINITY;
  const kvBound = kv >= o.kvTarget;

  const excess = waiting - o.queueTarget;
  const fewWaiting = excess > 0 && excess <= Math.max(2, Math.ceil(running * 0.1));
  if (fewWaiting && state.queued === 0) {
    const held = { ...state, calm: 0, queued: 1 };
    return decide(held, state.limit, 'queue_seen', others, state.capacity, o);
  }
  if (excess > 0) {
    // Full. With the cache below target the slots are what binds, and this is how many there
    // are; with the cache at target, the cache binds and the slot estimate stays as it was.
    const capacity = kvBound ? state.capacity : Math.max(1, running);
    const room = Math.min(capacity ?? Number.POSITIVE_INFINITY, kvRoom);
    const limit = Math.min(state.limit, ceilingOf(room, others, o));
    const next = { limit, capacity, discovering: false, calm: 0, queued: 0 };
    return decide(next, limit, 'queueing', others, room, o);
  }

  // A server seen running more than we thought it could has more slots.
  const capacity =
    state.capacity === undefined ? undefined : Math.max(state.capacity, Math.floor(running));
  const room = Math.min(capacity ?? Number.POSITIVE_INFINITY, kvRoom);
  const ceiling = Number.isFinite(room) ? ceilingOf(room, others, o) : o.max;
  const base = { ...state, capacity, queued: 0 };
  if (state.limit > ceiling) {
    return decide({ ...base, limit: ceiling, calm: 0 }, ceiling, 'over_ceiling', others, room, o);
  }
  if (inFlight < state.limit) {
    return decide({ ...base, calm: 0 }, state.limit, 'app_limited', others, room, o);
  }
  const wanted = state.discovering
    ? Math.ceil(state.limit * o.growthFactor)
    : Math.floor(state.limit) + 1;
  if (wanted <= ceiling || state.limit < ceiling) {
    const limit = Math.min(wanted, ceiling);
    return decide({ ...base, limit, calm: 0 }, limit, 'grow', others, room, o);
  }
  const calm = state.calm + 1;
  if (calm >= o.rediscoverAfter && capacity !== undefined && !kvBound) {
    const next = { ...base, capacity: undefined, calm: 0 };
    return decide(next, state.limit, 'rediscover', others, room, o);
  }
  return decide({ ...base, calm }, state.limit, 'at_ceiling', others, room, o);
}

/** Our share of a server that runs `capacity` requests, `others` of which are not ours. */
function ceilingOf(capacity: number, others: number, o: Resolved): number {
  const reserve = Math.max(o.reserveMin, Math.ceil(capacity * o.reserveFraction));
  return clamp(capacity - reserve - others + o.queueTarget, o.min, o.max);
}

function decide(
  state: ConcurrencyState,
  limit: number,
  reason: ConcurrencyReason,
  others: number,
  capacity: number | undefined,
  o: Resolved,
): ConcurrencyDecision {
  const clamped = clamp(Math.floor(limit), o.min, o.max);
  return {
    state: { ...state, limit: clamped },
    limit: clamped,
    reason,
    others,
    capacity: capacity !== undefined && Number.isFinite(capacity) ? capacity : undefined,
  };
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, n));
}

/** The controller with its state held, for a dispatcher loop. */
export class AdaptiveConcurrency {
  readonly #options: AdaptiveConcurrencyOptions;
  #state: ConcurrencyState;

  constructor(options: AdaptiveConcurrencyOptions) {
    this.#options = options;
    this.#state = initialConcurrencyState(options);
  }

  get limit(): number {
    return this.#state.limit;
  }

  get state(): ConcurrencyState {
    return this.#state;
  }

  update(sample: ConcurrencySample): ConcurrencyDecision {
    const decision = adaptConcurrency(this.#state, sample, this.#options);
    this.#state = decision.state;
    return decision;
  }
}
