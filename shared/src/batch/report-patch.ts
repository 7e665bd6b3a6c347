import type { BatchResult, ChangedFile, TargetStatus } from './batch-result.ts';
import { unifiedDiff } from './unified-diff.ts';

export type BatchPatch = {
  /** A git-style patch: `git apply batch.patch` in a checkout of the snapshot. */
  patch: string;
  /** The paths it changes, sorted. */
  files: string[];
  /**
   * Paths two targets wrote differently: the first target's version is in the patch (targets
   * get their own test files, so this means an agent wrote outside its own).
   */
  conflicts: Array<{ path: string; targets: string[] }>;
};

/**
 * The tests a batch job wrote, as one patch over the snapshot: by default the files of the
 * targets that passed (their tests and, where the job allowed it, their fixes to the code under
 * test), each file once, in path order. Created files diff against `/dev/null`.
 */
export function writeBatchPatch(
  result: BatchResult,
  options: { statuses?: readonly TargetStatus[] } = {},
): BatchPatch {
  const statuses = new Set(options.statuses ?? ['passed']);
  const chosen = new Map<string, { file: ChangedFile; target: string }>();
  const conflicts = new Map<string, string[]>();
  for (const target of result.targets) {
    if (!statuses.has(target.status)) continue;
    for (const file of [...target.testFiles, ...target.sourceFiles]) {
      const earlier = chosen.get(file.path);
      if (!earlier) {
        chosen.set(file.path, { file, target: target.target.id });
      } else if (earlier.file.content !== file.content) {
        const list = conflicts.get(file.path) ?? [earlier.target];
        list.push(target.target.id);
        conflicts.set(file.path, list);
      }
    }
  }
  const files = [...chosen.keys()].sort();
  const patch = files
    .map((path) => {
      const { file } = chosen.get(path)!;
      return unifiedDiff(path, file.original, file.content);
    })
    .join('');
  return {
    patch,
    files: files.filter((path) => {
      const { file } = chosen.get(path)!;
      return file.original !== file.content;
    }),
    conflicts: [...conflicts].map(([path, targets]) => ({ path, targets })),
  };
}
