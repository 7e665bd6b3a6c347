/**
 * Admission control like a GPU inference server's: at most `limit` generations run at once, and
 * each needs room in a shared KV cache of `kvCapacity` tokens. A request reserves the tokens its
 * whole sequence will take (prompt and reply: the simulator knows the reply in advance) and is
 * admitted when a slot is free and the reservation fits, as a scheduler that never has to preempt
 * would admit it; the rest wait in arrival order, the head blocking those behind it as in
 * first-come-first-served scheduling. What the cache reports in use is what the running
 * generations hold so far (their prompt, then one token per generated step), as vLLM's
 * `kv_cache_usage_perc` counts allocated blocks. A waiter whose client goes away leaves the queue
 * without taking a slot.
 */
export interface SlotQueue {
  /**
   * Resolves once a slot is free and `reserve` KV-cache tokens fit beside the other
   * reservations (or nothing else runs); rejects if `signal` aborts first.
   */
  acquire(signal: AbortSignal, reserve?: number): Promise<SlotLease>;
  readonly running: number;
  readonly waiting: number;
  /** KV-cache tokens the running generations hold so far. */
  readonly kvTokens: number;
  /** Share of the KV cache in use, 0..1; 0 when the cache is unlimited. */
  readonly kvUsage: number;
}

/** Frees the slot, its reservation and its tokens when called; safe to call more than once. */
export type SlotLease = (() => void) & {
  /** Marks `tokens` more of the reservation as in use (the prompt, then each generated step). */
  hold(tokens: number): void;
};

interface Waiter {
  reserve: number;
  wake: () => void;
}

export function createSlotQueue(
  limit: number,
  kvCapacity: number = Number.POSITIVE_INFINITY,
): SlotQueue {
  let running = 0;
  let reserved = 0;
  let kvTokens = 0;
  const waiters: Waiter[] = [];

  const fits = (reserve: number) =>
    running < limit && (running === 0 || reserved + reserve <= kvCapacity);

  const admitWaiters = () => {
    while (waiters.length > 0 && fits(waiters[0]!.reserve)) waiters.shift()!.wake();
  };

  const grant = (reserve: number): SlotLease => {
    running++;
    reserved += reserve;
    let held = 0;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      running--;
      reserved -= reserve;
      kvTokens -= held;
      admitWaiters();
    };
    return Object.assign(release, {
      hold(more: number) {
        if (released) return;
        held += more;
        kvTokens += more;
      },
    });
  };

  return {
    get running() {
      return running;
    },
    get waiting() {
      return waiters.length;
    },
    get kvTokens() {
      return kvTokens;
    },
    get kvUsage() {
      return Number.isFinite(kvCapacity) ? Math.min(1, kvTokens / kvCapacity) : 0;
    },
    acquire(signal, reserve = 0) {
      if (signal.aborted) return Promise.reject(signal.reason);
      if (waiters.length === 0 && fits(reserve)) return Promise.resolve(grant(reserve));
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          reserve,
          wake: () => {
            signal.removeEventListener('abort', leave);
            resolve(grant(reserve));
          },
        };
        const leave = () => {
          const at = waiters.indexOf(waiter);
          if (at !== -1) waiters.splice(at, 1);
          // The head leaving may unblock those behind it.
          if (at === 0) admitWaiters();
          reject(signal.reason);
        };
        waiters.push(waiter);
        signal.addEventListener('abort', leave, { once: true });
      });
    },
  };
}
