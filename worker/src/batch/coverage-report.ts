/**
 * Line coverage, in percent, as a test run printed it, or undefined when it printed none. Two
 * reporters cover the frameworks batch jobs run:
 * - istanbul's `text` summary (vitest with `--coverage`, jest with `--coverage`): a table whose
 *   `All files` row holds `% Stmts | % Branch | % Funcs | % Lines`; the `% Lines` column is
 *   found from the header, and is the fourth when no header was printed;
 * - pytest-cov's terminal report: `TOTAL  <stmts> <miss> [<branch> <brpart>] <cover>%`.
 * When a run printed several reports, the last one counts.
 */
export function lineCoverage(output: string): number | undefined {
  const lines = stripAnsi(output).split('\n');
  let found: number | undefined;
  let linesColumn = 3;
  for (const line of lines) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length > 1 && /^File$/i.test(cells[0] ?? '')) {
      const at = cells.findIndex((c) => /^%\s*Lines$/i.test(c));
      linesColumn = at > 0 ? at - 1 : 3;
      continue;
    }
    if (cells.length > 1 && cells[0] === 'All files') {
      const values = cells.slice(1);
      const value = percent(values[linesColumn]) ?? percent(values.at(-1));
      if (value !== undefined) found = value;
      continue;
    }
    const total = /^TOTAL(?:\s+\d+)+\s+(\d+(?:\.\d+)?)%\s*$/.exec(line.trim());
    if (total) found = Number(total[1]);
  }
  return found;
}

/** Percentage points gained, to two decimals; undefined unless both runs reported coverage. */
export function coverageDelta(before: string, after: string): number | undefined {
  const was = lineCoverage(before);
  const now = lineCoverage(after);
  if (was === undefined || now === undefined) return undefined;
  return Math.round((now - was) * 100) / 100;
}

function percent(cell: string | undefined): number | undefined {
  if (cell === undefined || !/^\d+(\.\d+)?$/.test(cell)) return undefined;
  const value = Number(cell);
  return value <= 100 ? value : undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour codes are what it removes
const ANSI = /\u001b\[[0-9;]*m/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}
