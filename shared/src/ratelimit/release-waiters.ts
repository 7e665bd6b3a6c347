/**
 * Calls waiting for an in-flight slot of a provider, woken the moment any worker frees one (a
 * pub/sub message) rather than asking again on a timer.
 */
export class ReleaseWaiters {
  readonly #subscribe: () => Promise<() => void>;
  #subscription: Promise<(() => void) | undefined> | undefined;
  readonly #waiting = new Map<string, Set<() => void>>();

  /** `subscribe` starts listening and returns how to stop; it runs at the first wait. */
  constructor(subscribe: () => Promise<() => void>) {
    this.#subscribe = subscribe;
  }

  /**
   * True once a slot of `provider` is freed; false after `ms` or on abort. The first wait only
   * starts listening and returns true: a slot freed before that could not be heard, so the
   * caller should look again.
   */
  async wait(provider: string, ms: number, signal: AbortSignal): Promise<boolean> {
    if (!this.#subscription) {
      this.#subscription = this.#subscribe().catch(() => undefined);
      await this.#subscription;
      return !signal.aborted;
    }
    await this.#subscription;
    return new Promise<boolean>((resolve) => {
      if (signal.aborted) return resolve(false);
      let set = this.#waiting.get(provider);
      if (!set) {
        set = new Set();
        this.#waiting.set(provider, set);
      }
      const waiters = set;
      const done = (woken: boolean) => {
        clearTimeout(timer);
        waiters.delete(wake);
        signal.removeEventListener('abort', abort);
        resolve(woken);
      };
      const wake = () => done(true);
      const abort = () => done(false);
      const timer = setTimeout(done, ms, false);
      waiters.add(wake);
      signal.addEventListener('abort', abort, { once: true });
    });
  }

  /** A slot of `provider` was freed: every waiter looks again (one of them will get it). */
  wake(provider: string): void {
    for (const wake of [...(this.#waiting.get(provider) ?? [])]) wake();
  }

  close(): void {
    this.#subscription?.then((stop) => stop?.());
  }
}
