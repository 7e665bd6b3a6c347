import { describe, expect, it } from 'vitest';
import { formatBashResult } from './bash-output.ts';
import type { SandboxResult } from './sandbox/sandbox-types.ts';

const base: SandboxResult = {
  end: 'exit',
  exitCode: 0,
  signal: null,
  stdout: '',
  stderr: '',
  bytes: { stdout: 0, stderr: 0 },
  truncated: false,
  durationMs: 5,
  enforced: { isolation: 'bwrap', uid: 65534, cgroup: { pids: true, memory: true }, rlimits: [] },
  notes: [],
};
const limits = { wallMs: 1_000, outputBytes: 100 };

describe('formatBashResult', () => {
  it('gives the exit code, then stdout and stderr', () => {
    const text = formatBashResult(
      { ...base, exitCode: 2, stdout: 'out\n', stderr: 'err\n' },
      limits,
      100,
    );
    expect(text).toBe('Exit code 2.\n--- stdout ---\nout\n\n--- stderr ---\nerr\n');
  });

  it('says how a stopped command ended, with the notes of limits hit', () => {
    const text = formatBashResult(
      {
        ...base,
        end: 'timeout',
        exitCode: null,
        signal: 'SIGKILL',
        notes: ['process limit (64) reached: 9 fork(s) refused'],
      },
      limits,
      100,
    );
    expect(text).toBe(
      'Stopped: the command ran past its 1000 ms time limit; it and every process it started were killed.\n' +
        '[process limit (64) reached: 9 fork(s) refused]\n(no output)',
    );
  });

  it('keeps the head and the tail of a long stream, where build errors are', () => {
    const stdout = `${'a'.repeat(50)}${'z'.repeat(50)}`;
    const text = formatBashResult(
      { ...base, stdout, truncated: true, end: 'output_limit', bytes: { stdout: 5000, stderr: 0 } },
      limits,
      40,
    );
    expect(text).toBe(
      'Stopped: the command wrote more output than allowed and was killed.\n' +
        '[output cut at 100 bytes: by then stdout had 5000 and stderr 0 bytes]\n' +
        `--- stdout ---\n${'a'.repeat(10)}\n[… 60 bytes omitted …]\n${'z'.repeat(30)}`,
    );
  });
});
