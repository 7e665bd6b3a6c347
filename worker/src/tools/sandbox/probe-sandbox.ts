import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSandboxed } from './run-sandboxed.ts';
import {
  DEFAULT_SANDBOX_POLICY,
  type EnforcedLimits,
  type SandboxPolicy,
} from './sandbox-types.ts';

/** What the worker can offer code-running tools on this host, decided once at start. */
export type SandboxStatus =
  | { mode: 'bwrap'; enforced: EnforcedLimits; message: string }
  | { mode: 'unsafe'; reason: string; message: string }
  | { mode: 'unavailable'; reason: string; message: string };

export type ProbeOptions = {
  /** The operator's TERN_UNSAFE_NO_SANDBOX=1: run code-running tools without isolation. */
  allowUnsafe: boolean;
  policy?: SandboxPolicy;
};

/**
 * Runs a trivial command in the sandbox, exactly as a tool call would, and reports whether
 * code-running tools can be offered, with a message for the worker's start-up log.
 */
export async function probeSandbox(options: ProbeOptions): Promise<SandboxStatus> {
  const policy = options.policy ?? DEFAULT_SANDBOX_POLICY;
  let reason: string;
  const workspace = await mkdtemp(join(tmpdir(), 'tern-sandbox-probe-'));
  try {
    // mkdtemp makes 0700 directories; the sandbox uid must be able to enter it.
    await chmod(workspace, 0o755);
    const result = await runSandboxed({
      workspace,
      command: ['/bin/sh', '-c', 'echo ok > probe && cat probe'],
      policy: { ...policy, limits: { ...policy.limits, wallMs: 10_000 } },
    });
    if (result.end === 'exit' && result.exitCode === 0 && result.stdout === 'ok\n') {
      return {
        mode: 'bwrap',
        enforced: result.enforced,
        message: describeEnforced(result.enforced),
      };
    }
    reason = `the probe command ended with ${result.end} ${result.exitCode ?? ''}: ${result.stderr.trim()}`;
  } catch (error) {
    reason = (error as Error).message;
  } finally {
    await rm(workspace, { recursive: true, force: true }).catch(() => {});
  }
  if (options.allowUnsafe) {
    return {
      mode: 'unsafe',
      reason,
      message:
        `sandbox: bwrap is unavailable (${reason}); TERN_UNSAFE_NO_SANDBOX=1 is set, so the bash ` +
        "tool runs commands WITHOUT isolation, with the worker host's files and network in reach",
    };
  }
  return {
    mode: 'unavailable',
    reason,
    message:
      `sandbox: bwrap is unavailable (${reason}); the bash tool is disabled. Install bubblewrap and ` +
      'allow user namespaces, or set TERN_UNSAFE_NO_SANDBOX=1 to run commands without isolation',
  };
}

/** The policy the tools get for a probed host: `unavailable` disables code-running tools. */
export function sandboxPolicyFor(
  status: SandboxStatus,
  policy: SandboxPolicy = DEFAULT_SANDBOX_POLICY,
): SandboxPolicy | 'unavailable' {
  if (status.mode === 'unavailable') return 'unavailable';
  return status.mode === 'unsafe' ? { ...policy, unsafeNoSandbox: true } : policy;
}

function describeEnforced(enforced: EnforcedLimits): string {
  const cgroups = [
    enforced.cgroup.pids ? 'pids' : undefined,
    enforced.cgroup.memory ? 'memory' : undefined,
  ].filter(Boolean);
  const who = enforced.uid === null ? "the worker's uid" : `uid ${enforced.uid}`;
  return (
    `sandbox: bwrap ready (commands run as ${who}; cgroup v1 limits: ${cgroups.join(', ') || 'none, rlimits only'}; ` +
    `rlimits: ${enforced.rlimits.join(', ')})`
  );
}
