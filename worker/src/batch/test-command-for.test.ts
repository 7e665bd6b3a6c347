import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellQuote, testCommandFor } from './test-command-for.ts';

/** What bash passes to a command for these words, one argument per line. */
const argsAsBashSeesThem = (words: string) =>
  execFileSync('bash', ['-c', `printf '%s\\n' ${words}`], { encoding: 'utf8' })
    .split('\n')
    .slice(0, -1);

describe('testCommandFor', () => {
  it('appends the test files to a vitest or jest command', () => {
    expect(testCommandFor('vitest', 'npx vitest run', ['src/a.test.ts', 'src/b.test.ts'])).toBe(
      'npx vitest run src/a.test.ts src/b.test.ts',
    );
    expect(testCommandFor('jest', 'npx jest --coverage', ['src/a.spec.js'])).toBe(
      'npx jest --coverage src/a.spec.js',
    );
  });

  it('appends them to pytest, once each', () => {
    expect(
      testCommandFor('pytest', 'python3 -m pytest -q', ['tests/test_a.py', 'tests/test_a.py']),
    ).toBe('python3 -m pytest -q tests/test_a.py');
  });

  it('runs the packages of go test files instead of every package', () => {
    expect(
      testCommandFor('go', 'go test ./...', [
        'internal/calc/calc_test.go',
        'internal/calc/more_test.go',
        'root_test.go',
      ]),
    ).toBe('go test . ./internal/calc');
    expect(testCommandFor('go', 'go test -count=1 ./... ', ['a/a_test.go'])).toBe(
      'go test -count=1 ./a',
    );
  });

  it('passes the files through npm scripts after --', () => {
    expect(testCommandFor('vitest', 'npm test', ['a.test.ts'])).toBe('npm test -- a.test.ts');
    expect(testCommandFor('jest', 'npm run test:unit -- --ci', ['a.test.ts'])).toBe(
      'npm run test:unit -- --ci a.test.ts',
    );
  });

  it('leaves the command whole when there is no test file', () => {
    expect(testCommandFor('vitest', ' npx vitest run ', [])).toBe('npx vitest run');
  });

  it('quotes paths so the shell gives the runner exactly those names', () => {
    const hostile = ['src/it’s a test.test.ts', 'src/$(touch pwned).test.ts', "a'b;rm -rf x.py"];
    const command = testCommandFor('pytest', 'python3 -m pytest', hostile);
    const words = command.slice('python3 -m pytest '.length);
    expect(argsAsBashSeesThem(words)).toEqual(hostile);
  });
});

describe('shellQuote', () => {
  it('leaves plain paths bare and quotes the rest', () => {
    expect(shellQuote('src/a-b_c.test.ts')).toBe('src/a-b_c.test.ts');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(argsAsBashSeesThem(shellQuote("it's"))).toEqual(["it's"]);
    expect(argsAsBashSeesThem(shellQuote('*'))).toEqual(['*']);
  });
});
