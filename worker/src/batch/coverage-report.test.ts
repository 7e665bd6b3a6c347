import { describe, expect, it } from 'vitest';
import { coverageDelta, lineCoverage } from './coverage-report.ts';

const istanbul = (lines: string) =>
  [
    ' % Coverage report from v8',
    '-----------|---------|----------|---------|---------|-------------------',
    'File       | % Stmts | % Branch | % Funcs | % Lines | Uncovered Line #s ',
    '-----------|---------|----------|---------|---------|-------------------',
    `All files  |   90.47 |       50 |     100 |   ${lines} |                   `,
    ' math.ts   |   90.47 |       50 |     100 |   85.71 | 7-8               ',
    '-----------|---------|----------|---------|---------|-------------------',
  ].join('\n');

describe('lineCoverage', () => {
  it('reads the % Lines column of istanbul’s All files row', () => {
    expect(lineCoverage(istanbul('85.71'))).toBe(85.71);
  });

  it('finds % Lines from the header when the columns differ', () => {
    const text = ['File | % Lines | % Stmts', 'All files | 42.5 | 99'].join('\n');
    expect(lineCoverage(text)).toBe(42.5);
  });

  it('reads the fourth column when no header was printed', () => {
    expect(lineCoverage('All files |  100 |  50 |  75 |  66.66 |')).toBe(66.66);
  });

  it('reads a coloured report', () => {
    const coloured =
      '\u001b[1mAll files\u001b[22m | \u001b[32m100\u001b[39m | 100 | 100 | \u001b[33m93.1\u001b[39m |';
    expect(lineCoverage(coloured)).toBe(93.1);
    expect(lineCoverage(`\u001b[2m${istanbul('70')}\u001b[22m`)).toBe(70);
  });

  it('reads pytest-cov’s TOTAL line, with or without branch columns', () => {
    const report = [
      'Name          Stmts   Miss  Cover',
      '---------------------------------',
      'pkg/calc.py      10      2    80%',
      '---------------------------------',
      'TOTAL            10      2    80%',
      '1 passed in 0.02s',
    ].join('\n');
    expect(lineCoverage(report)).toBe(80);
    expect(lineCoverage('TOTAL   20   3   6   1   81.25%')).toBe(81.25);
  });

  it('keeps the last report when a run printed several', () => {
    expect(lineCoverage(`${istanbul('10')}\n${istanbul('20')}`)).toBe(20);
  });

  it('is undefined for output without coverage', () => {
    expect(lineCoverage(' ✓ src/math.test.ts (3 tests) 2ms\n Test Files  1 passed (1)')).toBe(
      undefined,
    );
    expect(lineCoverage('TOTAL: 3 tests')).toBe(undefined);
    expect(lineCoverage('All files | n/a | n/a | n/a | n/a |')).toBe(undefined);
  });
});

describe('coverageDelta', () => {
  it('is the difference in percentage points when both runs reported coverage', () => {
    expect(coverageDelta(istanbul('40'), istanbul('85.71'))).toBe(45.71);
    expect(coverageDelta('TOTAL 10 10 0%', 'TOTAL 10 1 90%')).toBe(90);
  });

  it('is undefined when either run did not', () => {
    expect(coverageDelta('no coverage', istanbul('85.71'))).toBe(undefined);
    expect(coverageDelta(istanbul('85.71'), '')).toBe(undefined);
  });
});
