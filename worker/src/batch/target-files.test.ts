import { describe, expect, it } from 'vitest';
import { classifyPaths, fileKind, keptPaths } from './target-files.ts';

describe('fileKind', () => {
  it.each([
    'src/math.test.ts',
    'src/math.spec.tsx',
    'lib/util.test.mjs',
    'test_math.py',
    'pkg/test_strings.py',
    'pkg/strings_test.py',
    'internal/calc/calc_test.go',
    'tests/helpers.py',
    'src/__tests__/math.ts',
    'test/fixtures/data.json',
    'conftest.py',
  ])('reads %s as a test', (path) => {
    expect(fileKind(path)).toBe('test');
  });

  it.each([
    'src/math.ts',
    'pkg/strings.py',
    'internal/calc/calc.go',
    'package.json',
    'src/testing.ts',
    'src/contest.py',
  ])('reads %s as source', (path) => {
    expect(fileKind(path)).toBe('source');
  });

  it.each([
    'node_modules/.vite/vitest/results.json',
    'node_modules/left-pad/index.js',
    '.vite/deps/_metadata.json',
    'pkg/__pycache__/strings.cpython-312.pyc',
    '.pytest_cache/v/cache/lastfailed',
    'coverage/lcov.info',
    'coverage/tests/index.html',
    '.coverage',
    'pkg/strings.pyc',
  ])('ignores %s, a leftover of running the tests', (path) => {
    expect(fileKind(path)).toBe('ignored');
  });

  it('reads the target’s own test file as a test whatever its name', () => {
    expect(fileKind('checks/math_checks.ts')).toBe('source');
    expect(fileKind('checks/math_checks.ts', 'checks/math_checks.ts')).toBe('test');
  });

  it('ignores caches even inside a test folder', () => {
    expect(fileKind('tests/__pycache__/test_a.cpython-312.pyc')).toBe('ignored');
  });
});

describe('classifyPaths and keptPaths', () => {
  const changed = ['src/math.test.ts', 'src/math.ts', 'coverage/index.html', 'tests/test_x.py'];

  it('keeps tests and drops source changes unless the job allows them', () => {
    const classified = classifyPaths(changed);
    expect(classified).toEqual({
      tests: ['src/math.test.ts', 'tests/test_x.py'],
      sources: ['src/math.ts'],
      ignored: ['coverage/index.html'],
    });
    expect(keptPaths(classified, false)).toEqual({
      tests: ['src/math.test.ts', 'tests/test_x.py'],
      sources: [],
      dropped: ['src/math.ts'],
    });
    expect(keptPaths(classified, true)).toEqual({
      tests: ['src/math.test.ts', 'tests/test_x.py'],
      sources: ['src/math.ts'],
      dropped: [],
    });
  });
});
