import type { SessionEvent } from '@tern/shared/protocol/events';
import type { Lease, SessionStore } from '@tern/shared/session/session-store';

/** Sees every event a turn emits, and how each batch fared (`startedAt`: performance.now()). */
export type PublishObserver = {
  emitted(event: SessionEvent): void;
  published(batch: SessionEvent[], startedAt: number, outcome: 'ok' | 'fenced' | 'error'): void;
};

/**
 * Publishes a turn's events in order. Events emitted within one tick go to Redis in one script
 * call (one round trip for a burst of token deltas); one batch is in flight at a time, so order
 * is preserved. A rejected publish (lease lost) is remembered and surfaces at the next flush.
 */
export class EventPublisher {
  readonly #store: SessionStore;
  readonly #lease: Lease;
  readonly #maxLen: number;
  readonly #observer: PublishObserver | undefined;
  #queue: SessionEvent[] = [];
  #inFlight: Promise<void> = Promise.resolve();
  #scheduled = false;
  #fenced = false;
  #error: unknown;

  constructor(store: SessionStore, lease: Lease, maxLen: number, observer?: PublishObserver) {
    this.#store = store;
    this.#lease = lease;
    this.#maxLen = maxLen;
    this.#observer = observer;
  }

  get fenced(): boolean {
    return this.#fenced;
  }

  emit(event: SessionEvent): void {
    if (this.#fenced) return;
    this.#observer?.emitted(event);
    this.#queue.push(event);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#drain());
    }
  }

  /** Resolves when everything emitted so far is in the stream; rejects if it never will be. */
  async flush(): Promise<void> {
    if (this.#queue.length > 0) this.#drain();
    await this.#inFlight;
    if (this.#error) throw this.#error;
  }

  #drain(): void {
    this.#scheduled = false;
    if (this.#queue.length === 0) return;
    const batch = this.#queue;
    this.#queue = [];
    this.#inFlight = this.#inFlight.then(async () => {
      if (this.#fenced) return;
      const started = performance.now();
      try {
        const ids = await this.#store.publish(this.#lease, batch, this.#maxLen);
        if (ids === undefined) this.#fenced = true;
        this.#observer?.published(batch, started, ids === undefined ? 'fenced' : 'ok');
      } catch (error) {
        this.#error ??= error;
        this.#observer?.published(batch, started, 'error');
      }
    });
  }
}
