/**
 * Admission control like a GPU inference server's: at most `limit` generations run at once and the
 * rest wait in arrival order. A waiter whose client goes away leaves the queue without taking a slot.
 */
export interface SlotQueue {
  /** Resolves with a release function once a slot is free; rejects if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<() => void>;
  readonly running: number;
  readonly waiting: number;
}

export function createSlotQueue(limit: number): SlotQueue {
  let running = 0;
  const waiters: Array<() => void> = [];

  const grant = (): (() => void) => {
    running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      running--;
      waiters.shift()?.();
    };
  };

  return {
    get running() {
      return running;
    },
    get waiting() {
      return waiters.length;
    },
    acquire(signal) {
      if (signal.aborted) return Promise.reject(signal.reason);
      if (running < limit) return Promise.resolve(grant());
      return new Promise((resolve, reject) => {
        const wake = () => {
          signal.removeEventListener('abort', leave);
          resolve(grant());
        };
        const leave = () => {
          const at = waiters.indexOf(wake);
          if (at !== -1) waiters.splice(at, 1);
          reject(signal.reason);
        };
        waiters.push(wake);
        signal.addEventListener('abort', leave, { once: true });
      });
    },
  };
}
