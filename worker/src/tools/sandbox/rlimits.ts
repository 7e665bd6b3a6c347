import type { SandboxLimits } from './sandbox-types.ts';

/** Headroom of the shared per-uid process count over one call's `pids.max`. */
const NPROC_BACKSTOP_FACTOR = 16;

export type RlimitPlan = {
  /** `prlimit` options, soft and hard set together so the command cannot raise them back. */
  args: string[];
  /** Names of the limited resources, for the result's `enforced.rlimits`. */
  names: string[];
};

/**
 * The per-process limits applied with `prlimit` before bwrap starts; every process of the call
 * inherits them.
 *
 * RLIMIT_NPROC counts all processes of the host uid (root ignores it), and the kernel checks the
 * count across user namespaces, so concurrent calls of every session share it: one session's fork
 * bomb would starve the others. With a `pids` cgroup, which counts this call only, RLIMIT_NPROC is
 * set well above it as a backstop; without one it is the only process limit there is.
 *
 * Memory: RLIMIT_AS would break runtimes that reserve large address ranges up front (V8,
 * WebAssembly, Go), so without a memory cgroup RLIMIT_DATA (writable private mappings) is the
 * fallback; with one, the cgroup limits the call as a whole and the data limit stays off.
 */
export function rlimitPlan(
  limits: SandboxLimits,
  cgroup: { pids: boolean; memory: boolean },
): RlimitPlan {
  const both = (value: number) => `${value}:${value}`;
  const entries: [string, string][] = [
    // The soft limit sends SIGXCPU (reported as `cpu`); the hard one a second later is SIGKILL.
    ['cpu', `${limits.cpuSeconds}:${limits.cpuSeconds + 1}`],
    ['nproc', both(cgroup.pids ? limits.processes * NPROC_BACKSTOP_FACTOR : limits.processes)],
    ['fsize', both(limits.fileSizeBytes)],
    ['nofile', both(limits.openFiles)],
    ['core', '0:0'],
  ];
  if (!cgroup.memory) entries.push(['data', both(limits.memoryBytes)]);
  return {
    args: entries.map(([name, value]) => `--${name}=${value}`),
    names: entries.map(([name]) => name),
  };
}
