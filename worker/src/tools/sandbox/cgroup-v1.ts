import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SandboxLimits } from './sandbox-types.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';
let counter = 0;

/** A cgroup v1 group per call, in each controller that could be set up. */
export type CallCgroup = {
  pids: boolean;
  memory: boolean;
  /** `cgroup.procs` files the launcher writes its pid into before it execs the sandbox. */
  procsFiles: string[];
  /** What the kernel counted: OOM kills in the group and forks refused by `pids.max`. */
  events(): Promise<{ oomKills: number; pidsRefused: number }>;
  /** Kills every task still in the group, waits until it is empty, removes it. */
  dispose(): Promise<void>;
};

/**
 * Creates the call's groups below the worker's own groups (so the host's accounting of the worker
 * still covers them). Returns undefined when no controller is writable, as in most containers.
 * Only cgroup v1 is handled: under v2 the worker's own group holds processes, and the
 * no-internal-processes rule forbids enabling controllers for children there.
 */
export async function createCallCgroup(limits: SandboxLimits): Promise<CallCgroup | undefined> {
  const own = await ownCgroupPaths();
  const name = `tern-sbx-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
  const created: { controller: 'pids' | 'memory'; dir: string }[] = [];
  const settings = {
    pids: [['pids.max', String(limits.processes)]],
    // memsw (memory plus swap) only exists with swap accounting; without it the write fails.
    memory: [
      ['memory.limit_in_bytes', String(limits.memoryBytes)],
      ['memory.memsw.limit_in_bytes', String(limits.memoryBytes)],
    ],
  } as const;
  for (const controller of ['pids', 'memory'] as const) {
    const parent = own.get(controller);
    if (parent === undefined) continue;
    const dir = join(CGROUP_ROOT, controller, parent, name);
    try {
      await mkdir(dir);
    } catch {
      continue;
    }
    try {
      const [[file, value], ...optional] = settings[controller];
      await writeFile(join(dir, file), value);
      for (const [extraFile, extraValue] of optional) {
        await writeFile(join(dir, extraFile), extraValue).catch(() => {});
      }
      created.push({ controller, dir });
    } catch {
      await rmdir(dir).catch(() => {});
    }
  }
  if (created.length === 0) return undefined;
  const dirOf = (controller: 'pids' | 'memory') =>
    created.find((c) => c.controller === controller)?.dir;
  return {
    pids: dirOf('pids') !== undefined,
    memory: dirOf('memory') !== undefined,
    procsFiles: created.map((c) => join(c.dir, 'cgroup.procs')),
    async events() {
      const memoryDir = dirOf('memory');
      const pidsDir = dirOf('pids');
      const oom = memoryDir ? await readKeyed(join(memoryDir, 'memory.oom_control')) : undefined;
      const pids = pidsDir ? await readKeyed(join(pidsDir, 'pids.events')) : undefined;
      return { oomKills: oom?.get('oom_kill') ?? 0, pidsRefused: pids?.get('max') ?? 0 };
    },
    async dispose() {
      await Promise.all(created.map((c) => emptyAndRemove(c.dir)));
    },
  };
}

/** The worker's own group per v1 controller, from /proc/self/cgroup (`id:controllers:/path`). */
async function ownCgroupPaths(): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  let text: string;
  try {
    text = await readFile('/proc/self/cgroup', 'utf8');
  } catch {
    return paths;
  }
  for (const line of text.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (!controllers || path === undefined) continue;
    for (const controller of controllers.split(',')) {
      if (existsSync(join(CGROUP_ROOT, controller, 'cgroup.procs'))) paths.set(controller, path);
    }
  }
  return paths;
}

async function readKeyed(file: string): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  const text = await readFile(file, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) values.set(key, Number(value));
  }
  return values;
}

/**
 * Normally the group is already empty: the PID namespace ended with its init. A task that is
 * still there (a sandbox started outside a PID namespace) is killed; forks racing the kill are
 * caught by the next round.
 */
async function emptyAndRemove(dir: string): Promise<void> {
  const deadline = performance.now() + 5_000;
  for (;;) {
    const procs = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    const pids = procs.split('\n').filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || performance.now() > deadline) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
