import { setTimeout as sleep } from 'node:timers/promises';

/** A serialized wire event and the decoding step at which it is due. */
export interface TimedChunk {
  data: string;
  step: number;
}

/** Each step's due time in ms after the start: a fixed list, or computed when first asked for. */
export type StepTimes = readonly number[] | ((step: number) => number);

/**
 * Writes chunks on schedule. Deadlines are absolute (relative to the start) so timer lateness does
 * not accumulate over a long stream, and every chunk already due goes out in one write: with zero
 * latency the whole stream is a single write and no timer at all, which keeps the simulator's own
 * overhead out of latency benchmarks. Resolves false if `signal` aborted before the end.
 */
export async function writePaced(
  chunks: readonly TimedChunk[],
  offsets: StepTimes,
  write: (data: string) => void,
  signal: AbortSignal,
): Promise<boolean> {
  const dueAt = (chunk: TimedChunk) =>
    typeof offsets === 'function' ? offsets(chunk.step) : (offsets[chunk.step] ?? 0);
  const start = performance.now();
  let i = 0;
  while (i < chunks.length) {
    const wait = start + dueAt(chunks[i]!) - performance.now();
    // setTimeout has millisecond resolution; anything sooner is written now.
    if (wait >= 1) {
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        return false;
      }
    }
    if (signal.aborted) return false;
    const elapsed = performance.now() - start;
    let batch = chunks[i++]!.data;
    while (i < chunks.length && dueAt(chunks[i]!) <= elapsed) batch += chunks[i++]!.data;
    write(batch);
  }
  return true;
}
