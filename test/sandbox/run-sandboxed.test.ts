import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeSandbox, sandboxPolicyFor } from '../../worker/src/tools/sandbox/probe-sandbox.ts';
import { runSandboxed, SANDBOX_HOST_ID } from '../../worker/src/tools/sandbox/run-sandboxed.ts';
import {
  hostProcesses,
  TEST_LIMITS,
  tempDataDir,
  testPolicy,
  uniqueMarker,
} from './sandbox-fixtures.ts';

const data = tempDataDir();
afterAll(() => data.remove());

const run = (script: string, overrides: Parameters<typeof testPolicy>[0] = {}, hostId?: number) =>
  runSandboxed({
    workspace: data.workspace(hostId === undefined ? 'ws' : `ws-${hostId}`),
    command: ['bash', '-lc', script],
    policy: testPolicy(overrides),
    hostId,
  });

/** The worker's own call groups; each must be gone once its call returned. */
function leftoverCgroups(): string[] {
  const own = readFileSync('/proc/self/cgroup', 'utf8');
  const found: string[] = [];
  for (const controller of ['pids', 'memory']) {
    const path = own
      .split('\n')
      .find((l) => l.split(':')[1]?.split(',').includes(controller))
      ?.split(':')[2];
    if (path === undefined) continue;
    const dir = join('/sys/fs/cgroup', controller, path);
    found.push(...readdirSync(dir).filter((name) => name.startsWith(`tern-sbx-${process.pid}-`)));
  }
  return found;
}

describe('probeSandbox', () => {
  it('finds bwrap usable here and says which limits are in force', async () => {
    const status = await probeSandbox({ allowUnsafe: false });
    expect(status.mode, status.message).toBe('bwrap');
    expect(status.message).toMatch(
      /^sandbox: bwrap ready \(commands run as uid 65534; cgroup v1 limits: pids, memory;/,
    );
    expect(sandboxPolicyFor(status)).toMatchObject({ network: false });
  });

  it('maps an unusable sandbox to disabled tools unless unsafe mode is allowed', () => {
    const unavailable = { mode: 'unavailable', reason: 'x', message: 'x' } as const;
    expect(sandboxPolicyFor(unavailable)).toBe('unavailable');
    expect(sandboxPolicyFor({ ...unavailable, mode: 'unsafe' })).toMatchObject({
      unsafeNoSandbox: true,
    });
  });
});

describe('runSandboxed', () => {
  it('runs a command as the sandbox uid in /workspace and reports the limits in force', async () => {
    const result = await run('id -u; pwd; echo err >&2; exit 3');
    expect(result).toMatchObject({
      end: 'exit',
      exitCode: 3,
      stdout: `65534\n/workspace\n`,
      stderr: 'err\n',
    });
    expect(result.enforced).toEqual({
      isolation: 'bwrap',
      uid: SANDBOX_HOST_ID,
      cgroup: { pids: true, memory: true },
      rlimits: ['cpu', 'nproc', 'fsize', 'nofile', 'core'],
    });
    expect(leftoverCgroups()).toEqual([]);
  });

  it('hands files the worker wrote to the sandbox uid so commands can change them', async () => {
    const ws = data.workspace('owned');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(ws, 'by-root.txt'), 'a\n');
    const result = await runSandboxed({
      workspace: ws,
      command: ['bash', '-c', 'echo b >> by-root.txt && cat by-root.txt'],
      policy: testPolicy(),
    });
    expect(result.stdout).toBe('a\nb\n');
    expect(statSync(join(ws, 'by-root.txt')).uid).toBe(SANDBOX_HOST_ID);
  });

  it('ends with `signal` when the command is killed by a signal', async () => {
    const result = await run('kill -TERM $$');
    expect(result).toMatchObject({ end: 'signal', exitCode: 143, signal: 'SIGTERM' });
  });

  it('ends with `cpu` when a process uses up its CPU seconds', async () => {
    const result = await run('python3 -c "while True: pass"', {
      limits: { ...TEST_LIMITS, cpuSeconds: 1 },
    });
    expect(result).toMatchObject({ end: 'cpu', signal: 'SIGXCPU' });
  });

  it('ends with `memory` when the cgroup memory limit kills a process', async () => {
    const result = await run(`python3 -c "a = ' ' * 10**10"`);
    expect(result.end).toBe('memory');
    expect(result.notes[0]).toMatch(
      /^memory limit \(268435456 bytes\) reached: 1 process\(es\) killed$/,
    );
  });

  it('ends with `output_limit`, keeping what fitted, when output never stops', async () => {
    const result = await run('yes');
    expect(result).toMatchObject({ end: 'output_limit', truncated: true });
    expect(result.stdout.length).toBe(TEST_LIMITS.outputBytes);
    expect(result.bytes.stdout).toBeGreaterThanOrEqual(TEST_LIMITS.outputBytes);
  });

  it('limits the private /tmp to tmpBytes', async () => {
    const result = await run('head -c 100M /dev/zero > /tmp/big; echo $?; du -m /tmp/big');
    expect(result.stdout).toMatch(/^1\n6[34]\t\/tmp\/big\n$/);
    expect(result.stderr).toMatch(/No space left on device/);
  });

  it('without bwrap (unsafe mode) still kills what the command left in its process group', async () => {
    const marker = uniqueMarker();
    const result = await run(`(exec -a ${marker} sleep 300) & echo started`, {
      unsafeNoSandbox: true,
    });
    expect(result).toMatchObject({ end: 'exit', exitCode: 0, stdout: 'started\n' });
    expect(result.enforced.isolation).toBe('none');
    expect(hostProcesses(marker)).toEqual([]);
  });
});

describe('runSandboxed without cgroups (as in a container)', () => {
  const noCgroups = { cgroups: false };
  // RLIMIT_NPROC counts every process of the host uid: with 65534, the fork bombs of the test file
  // running beside this one would use up this file's budget too (the reason cgroups are preferred).
  const ownUid = 3_900_000 + (process.pid % 10_000);

  it('falls back to rlimits and says so', async () => {
    const result = await run('true', noCgroups, ownUid);
    expect(result.enforced.cgroup).toEqual({ pids: false, memory: false });
    expect(result.enforced.rlimits).toEqual(['cpu', 'nproc', 'fsize', 'nofile', 'core', 'data']);
  });

  it('contains a memory bomb with RLIMIT_DATA', async () => {
    const result = await run(`python3 -c "a = ' ' * 10**10"`, noCgroups, ownUid);
    expect(result).toMatchObject({ end: 'exit', exitCode: 1 });
    expect(result.stderr).toContain('MemoryError');
  });

  it('contains a fork bomb with RLIMIT_NPROC', async () => {
    const marker = uniqueMarker();
    const started = performance.now();
    const result = await run(
      `${marker}() { ${marker} | ${marker} & }; ${marker}; sleep 2; echo survived`,
      noCgroups,
      ownUid,
    );
    expect(result.stdout).toBe('survived\n');
    expect(result.stderr).toContain('Resource temporarily unavailable');
    expect(performance.now() - started).toBeLessThan(8_000);
    expect(hostProcesses(marker)).toEqual([]);
  });
});
