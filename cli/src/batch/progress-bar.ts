import type { BatchProgress, BatchStatus } from '@tern/shared/protocol/batch-api';

/**
 * `tern batch run`'s progress line. The render is pure (progress in, text out) so it is tested
 * without a terminal; `ProgressDisplay` decides how it reaches stderr: redrawn in place on a
 * terminal, one line per change otherwise (a CI log must not fill up with carriage returns nor
 * with the same line every poll).
 */

export type ProgressLineOptions = {
  /** Columns of the terminal; the bar shrinks to fit, and is left out below 20 columns. */
  columns: number;
  status?: BatchStatus;
  /** Unicode blocks on terminals, `#`/`-` for plain logs. */
  ascii?: boolean;
};

const BAR_MIN = 10;
const BAR_MAX = 40;

export function progressLine(progress: BatchProgress, options: ProgressLineOptions): string {
  const { total, done } = progress;
  const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
  const failedLike = progress.failed + progress.budgetExhausted;
  const parts = [
    `${done}/${total} ${percent}%`,
    `passed ${progress.passed}`,
    ...(failedLike > 0 ? [`failed ${failedLike}`] : []),
    ...(progress.errors > 0 ? [`errors ${progress.errors}`] : []),
    ...(progress.cancelled + progress.skipped > 0
      ? [`skipped ${progress.cancelled + progress.skipped}`]
      : []),
    `running ${progress.running}`,
    `${compact(progress.tokens.input + progress.tokens.output)} tok`,
    `$${progress.costUsd.toFixed(progress.costUsd >= 1 ? 2 : 4)}`,
    formatDuration(progress.elapsedMs),
    ...(done < total && progress.etaMs !== null ? [`ETA ${formatDuration(progress.etaMs)}`] : []),
    ...(options.status && options.status !== 'running' ? [options.status] : []),
  ];
  const text = parts.join(' · ');
  const room = options.columns - text.length - 3; // "[", "] " around the bar
  if (room < BAR_MIN) return fit(text, options.columns);
  const width = Math.min(BAR_MAX, room);
  return `${bar(done, total, width, options.ascii ?? false)} ${text}`;
}

/** `[█████░░░░░]`: filled in proportion to the finished targets, never full before the end. */
export function bar(done: number, total: number, width: number, ascii: boolean): string {
  const ratio = total === 0 ? 1 : done / total;
  const filled = done < total ? Math.min(width - 1, Math.floor(ratio * width)) : width;
  const [full, empty] = ascii ? ['#', '-'] : ['█', '░'];
  return `[${full.repeat(filled)}${empty.repeat(width - filled)}]`;
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** 950, 12.3k, 4.56M. */
export function compact(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)}k`;
  return `${(n / 1_000_000).toFixed(n < 10_000_000 ? 2 : 1)}M`;
}

function fit(text: string, columns: number): string {
  return text.length <= columns || columns < 2 ? text : `${text.slice(0, columns - 1)}…`;
}

/** Where progress goes: stderr, or anything that writes text and may be a terminal. */
export type ProgressOut = { write(text: string): unknown; isTTY?: boolean; columns?: number };

/**
 * Shows successive progress on a stream: on a terminal the line is redrawn in place (carriage
 * return, erase to end of line), elsewhere a new line is written only when the text changes
 * apart from the clock, so a log gets one line per finished or started target.
 */
export class ProgressDisplay {
  readonly #out: ProgressOut;
  #lastKey = '';
  #drawn = false;

  constructor(out: ProgressOut) {
    this.#out = out;
  }

  update(progress: BatchProgress, status?: BatchStatus): void {
    const tty = this.#out.isTTY === true;
    if (tty) {
      const line = progressLine(progress, {
        columns: (this.#out.columns ?? 80) - 1,
        ...(status ? { status } : {}),
      });
      this.#out.write(`\r${line}\u001b[K`);
      this.#drawn = true;
      return;
    }
    // The clock and ETA move on every poll; a log line is worth writing when a count moves.
    const key = JSON.stringify([progress.done, progress.running, progress.queued, status]);
    if (key === this.#lastKey) return;
    this.#lastKey = key;
    const line = progressLine(progress, {
      columns: 160,
      ascii: true,
      ...(status ? { status } : {}),
    });
    this.#out.write(`${line}\n`);
  }

  /** Ends a redrawn line so what follows starts on its own line. */
  finish(): void {
    if (this.#drawn) this.#out.write('\n');
    this.#drawn = false;
  }
}
