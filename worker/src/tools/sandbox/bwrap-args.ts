import { SANDBOX_WORKSPACE, type SandboxPolicy } from './sandbox-types.ts';

/** How a host path looks, as far as building the sandbox's root needs to know. */
export type HostEntry = { kind: 'dir' } | { kind: 'file' } | { kind: 'symlink'; target: string };

/** lstat results for the paths the mount plan asks about; missing paths are absent. */
export type HostLayout = ReadonlyMap<string, HostEntry>;

/** The base system: mounted read-only, everything else on the host stays invisible. */
export const SYSTEM_DIRS = ['/usr', '/etc'] as const;
/** Merged-/usr systems have these as symlinks into /usr; older ones as directories. */
export const SYSTEM_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'] as const;
/**
 * Secrets under /etc. Most are unreadable by the sandbox user anyway; masking them also covers
 * hosts where they are group- or world-readable, and keeps host keys out of reach of a kernel bug.
 */
export const MASKED_PATHS = [
  '/etc/shadow',
  '/etc/shadow-',
  '/etc/gshadow',
  '/etc/gshadow-',
  '/etc/sudoers',
  '/etc/sudoers.d',
  '/etc/ssh',
  '/etc/ssl/private',
] as const;

const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The ids the command has inside its user namespace; `nobody` exists in every /etc/passwd. */
export const INSIDE_ID = 65534;

export type BwrapPlan = {
  /** Real path of the workspace on the host. */
  workspace: string;
  policy: SandboxPolicy;
  env?: Readonly<Record<string, string>>;
};

/** Every path whose layout `bwrapArgs` consults. */
export function pathsToInspect(policy: SandboxPolicy): string[] {
  return [
    ...SYSTEM_DIRS,
    ...SYSTEM_LINKS,
    ...MASKED_PATHS,
    ...(policy.readOnlyPaths ?? []),
    ...(policy.hiddenPaths ?? []),
  ];
}

/**
 * bwrap's options for one call (the command follows them after `--`). The root is an empty tmpfs built from an allowlist, so the
 * worker's data dir, other sessions' workspaces, /root and /home never appear; the process sees
 * only the system read-only, its own workspace read-write, and private /tmp, /dev and /proc.
 */
export function bwrapArgs(plan: BwrapPlan, host: HostLayout): string[] {
  const { policy } = plan;
  const args: string[] = [
    // A user namespace is required to run unprivileged; nested ones are refused because they are
    // the usual first step of kernel exploits and no build tool needs them.
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    ...(policy.network ? ['--share-net'] : []),
    '--uid',
    String(INSIDE_ID),
    '--gid',
    String(INSIDE_ID),
    '--hostname',
    'tern-sandbox',
    '--die-with-parent',
    // A new session: the command cannot reach the worker's terminal (TIOCSTI injection).
    '--new-session',
  ];
  const mounted: string[] = [];
  // Read-only folders under /tmp are bound after the private /tmp, which would hide them.
  const readOnly = policy.readOnlyPaths ?? [];
  const early = readOnly.filter((dir) => !isUnder(dir, ['/tmp']));
  const late = readOnly.filter((dir) => isUnder(dir, ['/tmp']));
  const bindReadOnly = (dir: string) => {
    const entry = host.get(dir);
    if (!entry || entry.kind === 'symlink') return;
    args.push('--ro-bind', dir, dir);
    mounted.push(dir);
  };
  for (const dir of [...SYSTEM_DIRS, ...early]) bindReadOnly(dir);
  for (const link of SYSTEM_LINKS) {
    const entry = host.get(link);
    if (!entry) continue;
    if (entry.kind === 'symlink') args.push('--symlink', entry.target, link);
    else {
      args.push('--ro-bind', link, link);
      mounted.push(link);
    }
  }
  const tmpSize = String(policy.limits.tmpBytes);
  args.push(
    '--bind',
    plan.workspace,
    SANDBOX_WORKSPACE,
    '--size',
    tmpSize,
    '--tmpfs',
    '/tmp',
    '--dev',
    '/dev',
    // /dev is an unbounded tmpfs; shm gets the same cap as /tmp and the rest is made read-only.
    '--size',
    tmpSize,
    '--tmpfs',
    '/dev/shm',
    '--remount-ro',
    '/dev',
  );
  for (const dir of late) bindReadOnly(dir);
  // Masks go after every read-only bind they may fall under.
  for (const path of [...MASKED_PATHS, ...(policy.hiddenPaths ?? [])]) {
    const entry = host.get(path);
    if (!entry || entry.kind === 'symlink' || !isUnder(path, mounted)) continue;
    if (entry.kind === 'dir') args.push('--tmpfs', path, '--remount-ro', path);
    else args.push('--ro-bind', '/dev/null', path);
  }
  // After the private /tmp, so that a shared folder under /tmp is not hidden by it.
  for (const dir of policy.sharedPaths ?? []) args.push('--bind', dir, dir);
  args.push('--proc', '/proc', '--remount-ro', '/', '--chdir', SANDBOX_WORKSPACE, '--clearenv');
  const env: Record<string, string> = {
    PATH: SANDBOX_PATH,
    HOME: '/tmp',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    USER: 'nobody',
    ...plan.env,
  };
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  return args;
}

/** The minimal environment of the sandbox's launcher and of unsandboxed runs. */
export function minimalEnv(extra?: Readonly<Record<string, string>>): Record<string, string> {
  return { PATH: SANDBOX_PATH, LANG: 'C.UTF-8', TERM: 'dumb', ...extra };
}

function isUnder(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => path === root || path.startsWith(`${root}/`));
}
