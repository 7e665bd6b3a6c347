import type { BatchProgress } from '@tern/shared/protocol/batch-api';
import { describe, expect, it } from 'vitest';
import { bar, compact, formatDuration, ProgressDisplay, progressLine } from './progress-bar.ts';

const progress = (over: Partial<BatchProgress> = {}): BatchProgress => ({
  total: 40,
  queued: 22,
  running: 8,
  done: 10,
  passed: 7,
  failed: 1,
  budgetExhausted: 1,
  errors: 1,
  cancelled: 0,
  skipped: 0,
  tokens: { input: 120_000, output: 3_400 },
  costUsd: 0.1234,
  elapsedMs: 130_000,
  etaMs: 390_000,
  ...over,
});

describe('progressLine', () => {
  it('shows the bar, counts, tokens, cost, elapsed time and ETA', () => {
    expect(progressLine(progress(), { columns: 160 })).toBe(
      '[██████████░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░] 10/40 25% · passed 7 · failed 2 · errors 1 · running 8 · 123.4k tok · $0.1234 · 2m10s · ETA 6m30s',
    );
  });

  it('drops the ETA once everything finished, and names a status other than running', () => {
    const line = progressLine(
      progress({ done: 40, queued: 0, running: 0, passed: 37, etaMs: 0, costUsd: 1.5 }),
      { columns: 200, status: 'done', ascii: true },
    );
    expect(line).toBe(
      '[########################################] 40/40 100% · passed 37 · failed 2 · errors 1 · running 0 · 123.4k tok · $1.50 · 2m10s · done',
    );
  });

  it('shrinks the bar to the terminal, and leaves it out when there is no room', () => {
    const narrow = progressLine(progress({ etaMs: null }), { columns: 110 });
    expect(narrow.length).toBeLessThanOrEqual(110);
    expect(narrow).toMatch(/^\[█+░+\] 10\/40/);
    expect(narrow).not.toContain('ETA');
    const tiny = progressLine(progress(), { columns: 30 });
    expect(tiny).toBe('10/40 25% · passed 7 · failed…');
  });

  it('reports skipped and cancelled targets together', () => {
    expect(progressLine(progress({ cancelled: 2, skipped: 3 }), { columns: 200 })).toContain(
      'skipped 5',
    );
  });
});

describe('bar', () => {
  it('is never full before the last target, and full at the end', () => {
    expect(bar(39, 40, 10, true)).toBe('[#########-]');
    expect(bar(40, 40, 10, true)).toBe('[##########]');
    expect(bar(0, 40, 10, true)).toBe('[----------]');
    expect(bar(0, 0, 4, true)).toBe('[####]');
  });
});

describe('formatting', () => {
  it('writes durations and token counts compactly', () => {
    expect(formatDuration(4_400)).toBe('4s');
    expect(formatDuration(61_000)).toBe('1m01s');
    expect(formatDuration(3 * 3600_000 + 5 * 60_000)).toBe('3h05m');
    expect(compact(950)).toBe('950');
    expect(compact(1_234)).toBe('1.23k');
    expect(compact(123_400)).toBe('123.4k');
    expect(compact(4_560_000)).toBe('4.56M');
  });
});

describe('ProgressDisplay', () => {
  const sink = (isTTY: boolean) => {
    const writes: string[] = [];
    return { writes, out: { isTTY, columns: 160, write: (t: string) => writes.push(t) } };
  };

  it('redraws one line in place on a terminal', () => {
    const { writes, out } = sink(true);
    const display = new ProgressDisplay(out);
    display.update(progress());
    display.update(progress({ elapsedMs: 131_000 }));
    display.finish();
    expect(writes).toHaveLength(3);
    expect(writes[0]?.startsWith('\r[█')).toBe(true);
    expect(writes[0]?.endsWith('\u001b[K')).toBe(true);
    expect(writes[1]).toContain('2m11s');
    expect(writes[2]).toBe('\n');
  });

  it('writes a plain line per change when not a terminal, not one per poll', () => {
    const { writes, out } = sink(false);
    const display = new ProgressDisplay(out);
    display.update(progress());
    display.update(progress({ elapsedMs: 131_000, etaMs: 380_000 }));
    display.update(progress({ done: 11, running: 7, passed: 8 }));
    display.update(progress({ done: 11, running: 7, passed: 8 }), 'cancelling');
    display.finish();
    expect(writes).toHaveLength(3);
    for (const line of writes) {
      expect(line).toMatch(/^\[[#-]+\] .*\n$/);
      expect(line).not.toContain('\r');
    }
    expect(writes[1]).toContain('11/40');
    expect(writes[2]).toContain('cancelling');
  });
});
