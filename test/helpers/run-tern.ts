import { spawn } from 'node:child_process';
import { entries } from './stack.ts';

export type TernResult = { code: number | null; stdout: string; stderr: string };

/**
 * Runs the `tern` CLI as its own process with only PATH and `env` in its environment, feeding it
 * `input` on stdin (none: stdin is closed at once), and collects what it printed.
 */
export function runTern(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input?: string,
): Promise<TernResult> {
  const child = spawn(process.execPath, [entries.cli, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.stdin.end(input);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}
