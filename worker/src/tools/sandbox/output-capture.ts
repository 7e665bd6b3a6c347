import type { Readable } from 'node:stream';

/**
 * Collects stdout and stderr under one byte budget. Past the budget reading stops (the streams
 * are paused, so the writer blocks on a full pipe instead of filling the worker's memory) and
 * `onLimit` fires once so the caller can kill the command.
 */
export class OutputCapture {
  readonly #limit: number;
  readonly #chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  readonly bytes = { stdout: 0, stderr: 0 };
  #kept = 0;
  truncated = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  attach(streams: { stdout: Readable; stderr: Readable }, onLimit: () => void): void {
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = streams[name];
      stream.on('data', (chunk: Buffer) => {
        this.bytes[name] += chunk.length;
        const room = this.#limit - this.#kept;
        if (room > 0) {
          const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
          this.#chunks[name].push(part);
          this.#kept += part.length;
        }
        if (chunk.length > room && !this.truncated) {
          this.truncated = true;
          streams.stdout.pause();
          streams.stderr.pause();
          onLimit();
        }
      });
    }
  }

  text(name: 'stdout' | 'stderr'): string {
    return Buffer.concat(this.#chunks[name]).toString('utf8');
  }
}
