import { setTimeout as sleep } from 'node:timers/promises';

/** A serialized wire event and the decoding step at which it is due. */
export interface TimedChunk {
  data: string;
  step: number;
}

/**
 * Writes chunks on schedule. Deadlines are absolute (relative to the start) so timer lateness does
 * not accumulate over a long stream, and every chunk already due goes out in one write: with zero
 * latency the whole stream is a single write and no timer at all, which keeps the simulator's own
 * overhead out of latency benchmarks. Resolves false if `signal` aborted before the end.
 */
export async function writePaced(
  chunks: readonly TimedChunk[],
  offsets: readonly number[],
  write: (data: string) => void,
  signal: AbortSignal,
): Promise<boolean> {
  const start = performance.now();
  let i = 0;
  while (i < chunks.length) {
    const wait = start + dueAt(chunks[i]!, offsets) - performance.now();
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
    while (i < chunks.length && dueAt(chunks[i]!, offsets) <= elapsed) batch += chunks[i++]!.data;
    write(batch);
  }
  return true;
}

function dueAt(chunk: TimedChunk, offsets: readonly number[]): number {
  return offsets[chunk.step] ?? 0;
}
