/** Given back once a target's turn ended; releasing twice is harmless. */
export type GateSlot = { release(): void };

type Waiter = { grant: (slot: GateSlot) => void; reject: (reason: unknown) => void };

/**
 * An async semaphore whose size can change while it is in use: a target waits here for a slot
 * before its turn is queued, and gives it back when the turn ended. Lowering the limit takes
 * nothing away from holders; it only holds the next waiters back until enough slots came back.
 * Waiters are served in arrival order, so a long batch does not starve its first targets.
 */
export class ConcurrencyGate {
  #limit: number;
  #held = 0;
  readonly #waiting: Waiter[] = [];

  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  get limit(): number {
    return this.#limit;
  }

  /** Slots held now: targets past the gate whose turn has not ended. */
  get held(): number {
    return this.#held;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  setLimit(limit: number): void {
    this.#limit = Math.max(1, Math.floor(limit));
    this.#drain();
  }

  /** A slot, as soon as one is free; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<GateSlot> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiting.length === 0 && this.#held < this.#limit) {
      return Promise.resolve(this.#take());
    }
    return new Promise<GateSlot>((resolve, reject) => {
      const waiter: Waiter = {
        grant: (slot) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(slot);
        },
        reject,
      };
      const onAbort = () => {
        const at = this.#waiting.indexOf(waiter);
        if (at !== -1) this.#waiting.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /**
   * A slot at once, past the limit if need be: for a target whose turn is already queued or
   * running (a resumed job), which is in flight at the server whatever the gate says.
   */
  claim(): GateSlot {
    return this.#take();
  }

  #take(): GateSlot {
    this.#held += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#held -= 1;
        this.#drain();
      },
    };
  }

  #drain(): void {
    while (this.#held < this.#limit && this.#waiting.length > 0) {
      this.#waiting.shift()!.grant(this.#take());
    }
  }
}
