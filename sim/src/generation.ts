import { type LatencyModel, type StepSchedule, stepSchedule } from './latency.ts';
import type { Random } from './random.ts';
import type { SimExchange } from './sim-context.ts';
import type { SlotLease } from './slot-queue.ts';

/**
 * One generation holding a concurrency slot: its step schedule (slowed by the batch it runs in)
 * and the bookkeeping every wire needs at the end. Routes get the queueing, the batching model and
 * the TTFT/ITL metrics from here rather than each re-doing them.
 */
export interface Generation {
  /** When each step is due, in ms after writing starts; pass it to `writePaced`. */
  dueAt: (step: number) => number;
  /** Records a generation that ran to its end: tokens, and its TTFT (queueing included) and ITLs. */
  completed(promptTokens: number, completionTokens: number): void;
  /** Frees the slot; safe to call more than once. */
  release(): void;
}

/**
 * Waits for a slot (FIFO beyond the server's concurrency, or until the sequence's
 * `promptTokens + completionTokens` fit in the KV cache); undefined when the client left while
 * queued. `random` draws the jitter, so a request-seeded generator replays the same pauses.
 */
export async function acquireGeneration(
  { ctx, signal }: SimExchange,
  latency: LatencyModel,
  random: Random,
  promptTokens = 0,
  completionTokens = 0,
): Promise<Generation | undefined> {
  const queuedAt = performance.now();
  let release: SlotLease;
  try {
    release = await ctx.slots.acquire(signal, promptTokens + completionTokens);
  } catch {
    return undefined;
  }
  release.hold(promptTokens);
  const waitedMs = performance.now() - queuedAt;
  const schedule: StepSchedule = stepSchedule(latency, random, () => ctx.slots.running);
  return {
    dueAt: (step) => {
      // Each step computed for the first time is a token generated: it takes KV cache.
      const before = schedule.planned.length;
      const due = schedule.dueAt(step);
      release.hold(schedule.planned.length - before);
      return due;
    },
    completed(promptTokens, completionTokens) {
      ctx.metrics.tokensCounted(promptTokens, completionTokens);
      const planned = schedule.planned;
      if (planned.length === 0) return;
      const gaps = planned.slice(1).map((at, i) => at - planned[i]!);
      ctx.metrics.generationTimed(waitedMs + planned[0]!, gaps);
    },
    release: () => release(),
  };
}
