import { dirname } from 'node:path/posix';
import type { TestFramework } from '@tern/shared/batch/framework-detect';

/**
 * The job's test command narrowed to one target's test files, as a script for `bash -lc`. Only
 * those tests are run, so a target is judged on what its agent wrote, not on the rest of the
 * suite (which may be red for reasons of its own, or slow):
 * - vitest, jest and pytest take test files as trailing arguments;
 * - go takes packages: the folders of the test files, replacing the command's own package
 *   patterns (`./...`).
 * Paths come from the agent's workspace, so each is quoted for the shell.
 */
export function testCommandFor(
  framework: TestFramework,
  command: string,
  testFiles: readonly string[],
): string {
  const base = command.trim();
  if (testFiles.length === 0) return base;
  if (framework === 'go') {
    const packages = [...new Set(testFiles.map(goPackageOf))].sort();
    return `${withoutGoPatterns(base)} ${packages.map(shellQuote).join(' ')}`;
  }
  const files = [...new Set(testFiles)].map(shellQuote).join(' ');
  return `${argumentSeparated(base)} ${files}`;
}

/** `./pkg/calc` for `pkg/calc/calc_test.go`, `.` for a test at the module root. */
function goPackageOf(file: string): string {
  const dir = dirname(file);
  return dir === '.' ? '.' : `./${dir}`;
}

/** `go test ./... -count=1` → `go test -count=1`: the package list is ours to give. */
function withoutGoPatterns(command: string): string {
  return command
    .split(/\s+/)
    .filter((word) => !(word === '...' || word === '.' || /^\.{1,2}\/.*$/.test(word)))
    .join(' ');
}

/**
 * npm and `npm run` pass arguments to the script only after `--`; without it, `npm test a.ts`
 * gives npm the file. Other commands take them as they are.
 */
function argumentSeparated(command: string): string {
  const words = command.split(/\s+/);
  const npmScript = words[0] === 'npm' && ['test', 't', 'run', 'run-script'].includes(words[1]!);
  return npmScript && !words.includes('--') ? `${command} --` : command;
}

/** A word the shell reads back as exactly `text`. */
export function shellQuote(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
