import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_SANDBOX_LIMITS,
  type SandboxLimits,
  type SandboxPolicy,
} from '../../worker/src/tools/sandbox/sandbox-types.ts';

/** Limits small enough that bombs hit them within a second or two on a small machine. */
export const TEST_LIMITS: SandboxLimits = {
  ...DEFAULT_SANDBOX_LIMITS,
  wallMs: 20_000,
  cpuSeconds: 10,
  memoryBytes: 256 * 1024 ** 2,
  processes: 64,
  outputBytes: 256 * 1024,
  tmpBytes: 64 * 1024 ** 2,
};

export const testPolicy = (overrides: Partial<SandboxPolicy> = {}): SandboxPolicy => ({
  network: false,
  limits: TEST_LIMITS,
  ...overrides,
});

/**
 * A parent folder standing in for the worker's data dir, holding one workspace per session.
 * mkdtemp makes 0700 folders; the sandbox uid must be able to reach the workspace.
 */
export function tempDataDir(): { dir: string; workspace(name: string): string; remove(): void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tern-sandbox-test-')));
  chmodSync(dir, 0o755);
  return {
    dir,
    workspace(name) {
      const path = join(dir, name);
      execFileSync('mkdir', ['-p', path]);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Host processes whose command line contains `marker` (pgrep -f), excluding pgrep itself. */
export function hostProcesses(marker: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', marker], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.includes('pgrep'));
  } catch {
    return [];
  }
}

/** A string no other test or process uses, to find this test's processes and files. */
export const uniqueMarker = () => `tern${process.pid}${Math.random().toString(36).slice(2, 10)}`;
