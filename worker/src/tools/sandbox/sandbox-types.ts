/** Resource ceilings of one sandboxed command. */
export type SandboxLimits = {
  /**
   * Wall-clock budget; past it the whole process tree is killed. For the bash tool this is the
   * most a call may ask for (its default is shorter).
   */
  wallMs: number;
  /** CPU seconds per process (RLIMIT_CPU). */
  cpuSeconds: number;
  /** Memory of the whole call (cgroup), or data segment per process (RLIMIT_DATA) without one. */
  memoryBytes: number;
  /** Processes and threads of the whole call (cgroup `pids.max`), per user without one. */
  processes: number;
  /** Largest file a process may write (RLIMIT_FSIZE). */
  fileSizeBytes: number;
  openFiles: number;
  /** stdout and stderr together; past it reading stops and the command is killed. */
  outputBytes: number;
  /** Size of the private `/tmp` and `/dev/shm`. */
  tmpBytes: number;
};

/** What a session may do inside the sandbox. */
export type SandboxPolicy = {
  /** Share the host's network (including its loopback services) instead of a private loopback. */
  network: boolean;
  limits: SandboxLimits;
  /**
   * Run without bwrap: the operator set TERN_UNSAFE_NO_SANDBOX=1 on a host where bwrap cannot run.
   * Limits and the process-group kill still apply; isolation does not.
   */
  unsafeNoSandbox?: boolean;
  /**
   * Per-call cgroups when the host lets the worker create them (default true). False keeps to
   * rlimits, as inside most containers.
   */
  cgroups?: boolean;
  /** Host paths mounted read-only beyond the base system (/usr, /etc and the /bin, /lib links). */
  readOnlyPaths?: readonly string[];
  /** Host paths inside the mounted system to hide (secrets the base masks do not cover). */
  hiddenPaths?: readonly string[];
  /**
   * Host folders mounted read-write at the same path, shared by every call of every session:
   * package caches an operator wants warm, or a ledger a test reads. Nothing else outside the
   * workspace is writable.
   */
  sharedPaths?: readonly string[];
  /** Told how every command ended (the worker counts the sandbox's kills). */
  onEnd?: (end: SandboxEnd) => void;
};

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  wallMs: 600_000,
  cpuSeconds: 600,
  memoryBytes: 2 * 1024 ** 3,
  processes: 256,
  fileSizeBytes: 1024 ** 3,
  openFiles: 1024,
  outputBytes: 1024 ** 2,
  tmpBytes: 512 * 1024 ** 2,
};

export const DEFAULT_SANDBOX_POLICY: SandboxPolicy = {
  network: false,
  limits: DEFAULT_SANDBOX_LIMITS,
};

/** Where the workspace appears inside the sandbox; also the working directory. */
export const SANDBOX_WORKSPACE = '/workspace';

/**
 * Why a sandboxed command ended. `signal` is inferred from a 129–159 exit status (bash reports a
 * child killed by signal N as 128+N), so a script that itself exits with such a code reads the same.
 */
export type SandboxEnd =
  | 'exit'
  | 'signal'
  | 'timeout'
  | 'cancelled'
  | 'output_limit'
  | 'memory'
  | 'cpu';

/** Which limits were actually in force for a call, and by what mechanism. */
export type EnforcedLimits = {
  isolation: 'bwrap' | 'none';
  /** The host uid the command ran as (null: the worker's own). */
  uid: number | null;
  cgroup: { pids: boolean; memory: boolean };
  /** prlimit resources applied to every process of the call. */
  rlimits: string[];
};

export type SandboxOptions = {
  /** Host path of the session workspace, mounted read-write at /workspace. */
  workspace: string;
  /** argv run inside, e.g. `['bash', '-lc', script]`. */
  command: readonly string[];
  policy: SandboxPolicy;
  signal?: AbortSignal;
  /**
   * Host uid and gid of the command when the worker runs as root (default 65534, `nobody`). Calls
   * under different ids do not share RLIMIT_NPROC's count, which matters without cgroups.
   */
  hostId?: number;
  /** Extra environment for the command; the worker's own environment never enters. */
  env?: Readonly<Record<string, string>>;
};

export type SandboxResult = {
  end: SandboxEnd;
  exitCode: number | null;
  /** The signal named by the exit status, or the one that killed the sandbox from outside. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Bytes the command wrote to each stream, including any that were not kept. */
  bytes: { stdout: number; stderr: number };
  /** True when output was cut at `outputBytes`. */
  truncated: boolean;
  durationMs: number;
  enforced: EnforcedLimits;
  /** Limits that were hit along the way, e.g. the process limit during a fork bomb. */
  notes: string[];
};
