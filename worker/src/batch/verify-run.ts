import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TargetResult } from '@tern/shared/batch/batch-result';
import { applyDiff } from '@tern/shared/session/workspace-apply';
import type { WorkspaceObjects } from '@tern/shared/session/workspace-store';
import { byPath, type WorkspaceFile } from '@tern/shared/session/workspace-tree';
import { runSandboxed, SandboxError } from '../tools/sandbox/run-sandboxed.ts';
import type { SandboxPolicy, SandboxResult } from '../tools/sandbox/sandbox-types.ts';

export type LastRun = NonNullable<TargetResult['lastRun']>;

/** A verification never runs longer than this, whatever the target's wall budget. */
export const VERIFY_MAX_WALL_MS = 600_000;
/** Output kept in a result: the head (what ran) and the longer tail (failures and summaries). */
export const OUTPUT_HEAD = 4_096;
export const OUTPUT_TAIL = 28_672;

/** Environment of verification runs: non-interactive runners, output without colour codes. */
const VERIFY_ENV = { CI: '1', NO_COLOR: '1', FORCE_COLOR: '0' };

export type VerifyRunOptions = {
  /** The target session's objects: its own store, then the batch's snapshot store. */
  objects: WorkspaceObjects;
  snapshot: readonly WorkspaceFile[];
  /** Files of the session's final tree laid over the snapshot: the tests kept (and sources). */
  overlay: readonly WorkspaceFile[];
  /** The job's command restricted to the target's tests (test-command-for.ts). */
  command: string;
  policy: SandboxPolicy | 'unavailable';
  wallMs: number;
  /** A folder of this process's where run folders are made and removed. */
  scratch: string;
  signal?: AbortSignal;
};

/**
 * Runs the target's tests the way a reviewer would: in a fresh folder holding the snapshot plus
 * only the files kept from the agent's workspace (never what it installed or generated, never
 * source changes the job does not allow), in the sandbox with the workers' policy. The folder is
 * removed afterwards whatever happened. Rejects with a `SandboxError` when the sandbox cannot
 * run commands on this host.
 */
export async function verifyRun(options: VerifyRunOptions): Promise<LastRun> {
  const { policy } = options;
  if (policy === 'unavailable') {
    throw new SandboxError('the sandbox is unavailable on this dispatcher: tests cannot run');
  }
  const dir = join(options.scratch, `v-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true });
    // The sandbox's uid must be able to enter it when the dispatcher runs as root.
    await chmod(dir, 0o755);
    await applyDiff(
      dir,
      { write: overlaid(options.snapshot, options.overlay), remove: [] },
      { fetch: (file) => options.objects.blob(file) },
    );
    const wallMs = Math.max(1_000, Math.min(options.wallMs, VERIFY_MAX_WALL_MS));
    const result = await runSandboxed({
      workspace: dir,
      command: ['bash', '-lc', options.command],
      policy: { ...policy, limits: { ...policy.limits, wallMs } },
      env: VERIFY_ENV,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return {
      command: options.command,
      exitCode: result.end === 'exit' || result.end === 'signal' ? result.exitCode : null,
      output: capOutput(outputOf(result, wallMs)),
      durationMs: result.durationMs,
    };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * The snapshot with the overlay's files in place. A kept file where the snapshot had a file as
 * its folder (or a folder where the snapshot had files under it) replaces those entries, as the
 * agent's workspace did.
 */
export function overlaid(
  snapshot: readonly WorkspaceFile[],
  overlay: readonly WorkspaceFile[],
): WorkspaceFile[] {
  const files = new Map(snapshot.map((f) => [f.path, f]));
  for (const file of overlay) {
    for (let at = file.path.indexOf('/'); at !== -1; at = file.path.indexOf('/', at + 1)) {
      files.delete(file.path.slice(0, at));
    }
    const inside = `${file.path}/`;
    for (const path of files.keys()) if (path.startsWith(inside)) files.delete(path);
    files.set(file.path, file);
  }
  return [...files.values()].sort(byPath);
}

/** stdout then stderr, with why the run was stopped when something stopped it. */
function outputOf(result: SandboxResult, wallMs: number): string {
  const parts: string[] = [];
  const stopped: Partial<Record<SandboxResult['end'], string>> = {
    timeout: `[stopped: the run passed its ${wallMs} ms time limit]`,
    cancelled: '[stopped: the batch was cancelled]',
    output_limit: '[stopped: the run wrote more output than allowed]',
    memory: '[a process ran out of its memory limit]',
    cpu: '[a process used up its CPU time]',
  };
  const note = stopped[result.end];
  if (note) parts.push(note);
  parts.push(...result.notes.map((n) => `[${n}]`));
  if (result.stdout) parts.push(result.stdout);
  if (result.stderr) parts.push(result.stderr);
  return parts.join('\n');
}

/** At most OUTPUT_HEAD + OUTPUT_TAIL characters, with what was cut said in the middle. */
export function capOutput(text: string): string {
  if (text.length <= OUTPUT_HEAD + OUTPUT_TAIL) return text;
  const omitted = text.length - OUTPUT_HEAD - OUTPUT_TAIL;
  return `${text.slice(0, OUTPUT_HEAD)}\n[… ${omitted} characters omitted …]\n${text.slice(-OUTPUT_TAIL)}`;
}
