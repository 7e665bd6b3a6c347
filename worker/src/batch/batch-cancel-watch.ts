import type { BatchStatus } from '@tern/shared/protocol/batch-api';

/** The reason a batch's signal aborts with. */
export class BatchCancelledError extends Error {
  override name = 'BatchCancelledError';
}

type Watched = { controller: AbortController; refs: number; timer: NodeJS.Timeout };

/**
 * One poll of a batch's status per process, however many of its targets the process works on:
 * each target follows its batch's signal, which aborts once the batch is being cancelled (or is
 * gone). Targets waiting at a gate or for their turn then stop waiting.
 */
export class BatchCancelWatch {
  readonly #read: (batchId: string) => Promise<BatchStatus | undefined>;
  readonly #pollMs: number;
  readonly #watched = new Map<string, Watched>();

  constructor(read: (batchId: string) => Promise<BatchStatus | undefined>, pollMs: number) {
    this.#read = read;
    this.#pollMs = pollMs;
  }

  /** The batch's cancel signal; `stop()` when the target no longer needs it. */
  follow(batchId: string): { signal: AbortSignal; stop(): void } {
    let watched = this.#watched.get(batchId);
    if (!watched) {
      const controller = new AbortController();
      const timer = setInterval(() => void this.#check(batchId, controller), this.#pollMs);
      timer.unref();
      watched = { controller, refs: 0, timer };
      this.#watched.set(batchId, watched);
      void this.#check(batchId, controller);
    }
    const entry = watched;
    entry.refs += 1;
    let stopped = false;
    return {
      signal: entry.controller.signal,
      stop: () => {
        if (stopped) return;
        stopped = true;
        entry.refs -= 1;
        if (entry.refs > 0) return;
        clearInterval(entry.timer);
        if (this.#watched.get(batchId) === entry) this.#watched.delete(batchId);
      },
    };
  }

  close(): void {
    for (const entry of this.#watched.values()) clearInterval(entry.timer);
    this.#watched.clear();
  }

  async #check(batchId: string, controller: AbortController): Promise<void> {
    if (controller.signal.aborted) return;
    try {
      const status = await this.#read(batchId);
      if (status === undefined || status === 'cancelling' || status === 'cancelled') {
        controller.abort(new BatchCancelledError(`batch ${batchId} is ${status ?? 'gone'}`));
      }
    } catch {
      // Redis away for a moment: the next poll asks again.
    }
  }
}
