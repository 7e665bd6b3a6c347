import { randomBytes } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  rename,
  rm,
  rmdir,
  symlink,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mapLimit } from './map-limit.ts';
import { type LocalFile, recordOf } from './workspace-scan.ts';
import { DIR_MODE, LINK_MODE, type TreeDiff, type WorkspaceFile } from './workspace-tree.ts';

/** Files fetched and written at once. */
const PARALLEL = 8;

export type ApplyOptions = {
  /** The verified content of a file or symlink of the target tree. */
  fetch: (file: WorkspaceFile) => Promise<Uint8Array>;
  now?: () => number;
};

/**
 * Turns a folder that holds the diff's `from` tree into one that holds its `to` tree: removes what
 * went, then writes what is new or changed, and returns the records of the written paths.
 *
 * Nothing is written or removed through a symlink: every parent folder is checked to be a real
 * folder (a symlink or file in its place is replaced by one), and files and links are written
 * under a temporary name and renamed over the path, which replaces a link instead of following it.
 */
export async function applyDiff(
  root: string,
  diff: TreeDiff,
  options: ApplyOptions,
): Promise<LocalFile[]> {
  const now = options.now ?? Date.now;
  await mkdir(root, { recursive: true });
  const removed = [...diff.remove].sort((a, b) => (a.path < b.path ? 1 : -1));
  const emptied = new Set<string>();
  for (const file of removed) {
    if (!(await realParents(root, file.path))) continue;
    await rm(join(root, file.path), { recursive: true, force: true });
    for (let dir = dirname(file.path); dir !== '.'; dir = dirname(dir)) emptied.add(dir);
  }
  // Folders left empty go too, deepest first, as on a worker restoring the tree from scratch.
  for (const dir of [...emptied].sort((a, b) => b.length - a.length)) {
    await rmdir(join(root, dir)).catch(() => {});
  }

  const parents = new Map<string, Promise<void>>();
  const seenAt = now();
  return mapLimit(diff.write, PARALLEL, async (file) => {
    const bytes = file.mode === DIR_MODE ? undefined : await options.fetch(file);
    await ensureFolder(root, dirname(file.path), parents);
    const target = join(root, file.path);
    if (file.mode === DIR_MODE) {
      const existing = await lstat(target).catch(() => undefined);
      if (!existing?.isDirectory()) {
        if (existing) await rm(target, { force: true });
        await mkdir(target);
      }
    } else {
      const temp = join(dirname(target), `.tern-restore-${randomBytes(6).toString('hex')}`);
      try {
        if (file.mode === LINK_MODE) {
          await symlink(Buffer.from(bytes!), temp);
        } else {
          await writeFile(temp, bytes!, { flag: 'wx' });
          await chmod(temp, file.mode & 0o777);
        }
        // rename replaces a file or link but not a folder.
        if ((await lstat(target).catch(() => undefined))?.isDirectory()) {
          await rm(target, { recursive: true, force: true });
        }
        await rename(temp, target);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
    }
    return recordOf(file, await lstat(target), seenAt);
  });
}

/** True when every parent of `path` is a real folder, so removing it cannot reach elsewhere. */
async function realParents(root: string, path: string): Promise<boolean> {
  const parts = path.split('/').slice(0, -1);
  let dir = root;
  for (const part of parts) {
    dir = join(dir, part);
    const stat = await lstat(dir).catch(() => undefined);
    if (!stat?.isDirectory()) return false;
  }
  return true;
}

/** Makes `dir` (relative) a chain of real folders under `root`, replacing anything else in the way. */
function ensureFolder(root: string, dir: string, made: Map<string, Promise<void>>): Promise<void> {
  if (dir === '.' || dir === '') return Promise.resolve();
  let pending = made.get(dir);
  if (!pending) {
    pending = ensureFolder(root, dirname(dir), made).then(async () => {
      const abs = join(root, dir);
      const stat = await lstat(abs).catch(() => undefined);
      if (stat?.isDirectory()) return;
      if (stat) await unlink(abs);
      await mkdir(abs);
    });
    made.set(dir, pending);
  }
  return pending;
}
