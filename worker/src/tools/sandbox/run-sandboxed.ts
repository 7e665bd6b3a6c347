import { type ChildProcess, spawn } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { bwrapArgs, minimalEnv, pathsToInspect } from './bwrap-args.ts';
import { createCallCgroup } from './cgroup-v1.ts';
import { inspectHost } from './host-layout.ts';
import { OutputCapture } from './output-capture.ts';
import { rlimitPlan } from './rlimits.ts';
import type { EnforcedLimits, SandboxEnd, SandboxOptions, SandboxResult } from './sandbox-types.ts';
import { ensureOwnedBy, firstUnreachableAncestor } from './workspace-owner.ts';

/** The host uid and gid of sandboxed commands when the worker runs as root. */
export const SANDBOX_HOST_ID = 65534;

/** The sandbox could not be set up; the command did not run. */
export class SandboxError extends Error {
  override name = 'SandboxError';
}

// Joins the call's cgroups before anything else runs, so no process of the call starts outside
// them; then execs the rest of the argv. Arguments: cgroup.procs files, `--`, the command.
const JOIN_CGROUPS =
  'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

/** After the main process exits, how long stray holders of its pipes get before being cut off. */
const DRAIN_MS = 500;

/**
 * Runs one command for one tool call under bwrap, with the call's limits, and always resolves
 * with how it ended: the whole process tree is gone when the promise settles, whether the
 * command exited, timed out, was cancelled or flooded its output. Rejects only with a
 * `SandboxError` when the sandbox itself could not start.
 *
 * The process chain is `sh` (joins the cgroups, as root) → `setpriv` (drops to the sandbox uid)
 * → `prlimit` (per-process limits) → `bwrap` (namespaces, mounts). bwrap reads its arguments
 * from a pipe so that the command line visible in the sandbox's /proc/1 shows no host paths.
 */
export async function runSandboxed(options: SandboxOptions): Promise<SandboxResult> {
  const started = performance.now();
  const { policy } = options;
  const { limits } = policy;
  const workspace = await realpath(options.workspace);
  const isolation = policy.unsafeNoSandbox ? 'none' : 'bwrap';
  const runAs = process.getuid?.() === 0 ? (options.hostId ?? SANDBOX_HOST_ID) : null;

  if (runAs !== null) {
    const blocked = await firstUnreachableAncestor(workspace, runAs, runAs);
    if (blocked !== undefined) {
      throw new SandboxError(
        `the workspace ${workspace} is not reachable by uid ${runAs}: ${blocked} is not searchable (chmod o+x it)`,
      );
    }
    try {
      await ensureOwnedBy(workspace, runAs, runAs);
    } catch (error) {
      throw new SandboxError(
        `cannot hand the workspace to uid ${runAs}: ${(error as Error).message}`,
      );
    }
  }
  const cgroup = policy.cgroups === false ? undefined : await createCallCgroup(limits);
  const rlimits = rlimitPlan(limits, {
    pids: cgroup?.pids ?? false,
    memory: cgroup?.memory ?? false,
  });
  const enforced: EnforcedLimits = {
    isolation,
    uid: runAs,
    cgroup: { pids: cgroup?.pids ?? false, memory: cgroup?.memory ?? false },
    rlimits: rlimits.names,
  };

  const argv: string[] = [];
  if (cgroup) argv.push('/bin/sh', '-c', JOIN_CGROUPS, 'tern-sandbox', ...cgroup.procsFiles, '--');
  if (runAs !== null) {
    argv.push('setpriv', `--reuid=${runAs}`, `--regid=${runAs}`, '--clear-groups');
  }
  argv.push('prlimit', ...rlimits.args, '--');
  let bwrapArgv: string[] | undefined;
  if (isolation === 'bwrap') {
    const host = await inspectHost(pathsToInspect(policy));
    bwrapArgv = bwrapArgs({ workspace, policy, env: options.env }, host);
    // bwrap takes the command only on its own command line, not from --args.
    argv.push('bwrap', '--args', '3', '--json-status-fd', '4', '--', ...options.command);
  } else {
    argv.push(...options.command);
  }

  const [file, ...rest] = argv as [string, ...string[]];
  let child: ChildProcess;
  try {
    child = spawn(file, rest, {
      // Without bwrap the command runs in the workspace itself; with it, bwrap sets the cwd.
      cwd: isolation === 'none' ? workspace : '/',
      env: minimalEnv(isolation === 'none' ? { HOME: workspace, ...options.env } : undefined),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
  } catch (error) {
    await cgroup?.dispose();
    throw new SandboxError(`cannot start the sandbox: ${(error as Error).message}`);
  }
  const argsPipe = child.stdio[3] as Writable;
  argsPipe.on('error', () => {});
  argsPipe.end(bwrapArgv ? `${bwrapArgv.join('\0')}\0` : '');
  const status = collectStatus(child.stdio[4] as Readable);

  const output = new OutputCapture(limits.outputBytes);
  let stopped: SandboxEnd | undefined;
  const kill = (reason: SandboxEnd) => {
    stopped ??= reason;
    killGroup(child);
  };
  output.attach({ stdout: child.stdout!, stderr: child.stderr! }, () => kill('output_limit'));
  const timer = setTimeout(() => kill('timeout'), limits.wallMs);
  const onAbort = () => kill('cancelled');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const exit = await waitForExit(child);
  clearTimeout(timer);
  options.signal?.removeEventListener('abort', onAbort);
  // Whatever the command left in its process group (unsandboxed runs) goes with it.
  killGroup(child);
  const events = (await cgroup?.events()) ?? { oomKills: 0, pidsRefused: 0 };
  await cgroup?.dispose();

  const childStarted = (await status).childStarted;
  if (exit.error !== undefined) throw new SandboxError(`cannot start the sandbox: ${exit.error}`);
  if (isolation === 'bwrap' && !childStarted && stopped === undefined) {
    throw new SandboxError(`bwrap could not start the command: ${output.text('stderr').trim()}`);
  }

  const notes: string[] = [];
  if (events.oomKills > 0) {
    notes.push(
      `memory limit (${limits.memoryBytes} bytes) reached: ${events.oomKills} process(es) killed`,
    );
  }
  if (events.pidsRefused > 0) {
    notes.push(
      `process limit (${limits.processes}) reached: ${events.pidsRefused} fork(s) refused`,
    );
  }
  const exitSignal = signalOfStatus(exit.code);
  let end: SandboxEnd = stopped ?? 'exit';
  // An OOM kill is reported even when the script carried on (`tail | wc` exits 0 after tail was
  // killed): the output the model reads is incomplete either way.
  if (stopped === undefined && events.oomKills > 0) end = 'memory';
  else if (stopped === undefined && exit.code !== 0) {
    if (exitSignal === 'SIGXCPU') end = 'cpu';
    else if (exitSignal !== null || exit.signal !== null) end = 'signal';
  }
  policy.onEnd?.(end);
  return {
    end,
    exitCode: exit.code,
    signal: exit.signal ?? exitSignal,
    stdout: output.text('stdout'),
    stderr: output.text('stderr'),
    bytes: { ...output.bytes },
    truncated: output.truncated,
    durationMs: Math.round(performance.now() - started),
    enforced,
    notes,
  };
}

/** SIGKILL to the launcher's process group; bwrap's --die-with-parent takes the PID namespace. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is already gone.
  }
}

/**
 * Resolves when the launcher exited and its pipes are drained. Inside bwrap nothing outlives the
 * PID namespace, so the pipes close with it; without bwrap a process that left the group could
 * hold them open, so they are cut off after a short grace.
 */
type Exit = { code: number | null; signal: NodeJS.Signals | null; error?: string };

function waitForExit(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    let exited: Exit | undefined;
    // A launcher that cannot be spawned (setpriv or prlimit missing) fails here, not in spawn().
    child.once('error', (error) => resolve({ code: null, signal: null, error: error.message }));
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve(exited!);
      }, DRAIN_MS).unref();
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) =>
      resolve(exited ?? { code, signal }),
    );
  });
}

/** bwrap's `--json-status-fd` reports `child-pid` once the command started. */
async function collectStatus(stream: Readable): Promise<{ childStarted: boolean }> {
  let text = '';
  try {
    for await (const chunk of stream) text += String(chunk);
  } catch {
    // A closed pipe is fine.
  }
  return { childStarted: text.includes('"child-pid"') };
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

function signalOfStatus(code: number | null): string | null {
  if (code === null || code <= 128 || code >= 160) return null;
  return SIGNAL_NAMES.get(code - 128) ?? null;
}
