import type { Dirent } from 'node:fs';
import { readdir, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { snapshotError } from './batch-errors.ts';
import {
  checkSymlink,
  DEFAULT_SNAPSHOT_LIMITS,
  folderOverLimit,
  isInside,
  type Snapshot,
  type SnapshotLimits,
} from './snapshot.ts';

export type DirectorySnapshotOptions = {
  /**
   * Folders of the server a job may name (the operator's setting). None means server
   * directories are not accepted at all.
   */
  allowedRoots: readonly string[];
  limits?: SnapshotLimits;
  /** Folder names not walked (default `.git`): they are not the code, and can be huge. */
  skipDirs?: readonly string[];
};

/**
 * A snapshot that already sits on the server, read in place: the folder must be inside an
 * allowed root (checked on the path as given, then once more with symlinks resolved, and before
 * telling whether it exists, so the answer leaks nothing about other folders), every symbolic
 * link in it must resolve inside it, and it must fit the same caps as an uploaded one.
 */
export async function readDirectorySnapshot(
  dir: string,
  options: DirectorySnapshotOptions,
): Promise<Snapshot> {
  const limits = options.limits ?? DEFAULT_SNAPSHOT_LIMITS;
  const skipDirs = new Set(options.skipDirs ?? ['.git']);
  const notAllowed = () =>
    snapshotError(
      'snapshot_dir_not_allowed',
      options.allowedRoots.length === 0
        ? 'this server accepts no directory snapshots; send a tarball'
        : `${dir} is outside the folders this server allows for snapshots`,
    );
  if (!isAbsolute(dir)) {
    throw snapshotError('invalid_source', `${dir}: a server directory must be an absolute path`);
  }
  const roots = await Promise.all(
    options.allowedRoots.map(async (r) => {
      try {
        return await realpath(r);
      } catch {
        return resolve(r);
      }
    }),
  );
  const lexical = resolve(dir);
  if (
    !roots.some((r) => isInside(r, lexical)) &&
    !options.allowedRoots.some((r) => isInside(resolve(r), lexical))
  ) {
    throw notAllowed();
  }
  let root: string;
  try {
    root = await realpath(lexical);
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw snapshotError('snapshot_not_found', `${dir} does not exist or is not a directory`);
  }
  if (!roots.some((r) => isInside(r, root))) throw notAllowed();

  const files: string[] = [];
  let bytes = 0;
  const walk = async (relative: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(root, relative), { withFileTypes: true });
    } catch (error) {
      throw snapshotError('snapshot_invalid', `${relative || '.'}: ${(error as Error).message}`);
    }
    for (const entry of entries) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const full = join(root, path);
      if (entry.isSymbolicLink()) {
        await checkSymlink(root, full, await readlink(full), path);
      } else if (entry.isDirectory()) {
        if (!skipDirs.has(entry.name)) await walk(path);
      } else if (entry.isFile()) {
        bytes += (await stat(full)).size;
        files.push(path);
        if (bytes > limits.maxBytes) throw folderOverLimit.bytes(dir, limits);
        if (files.length > limits.maxFiles) throw folderOverLimit.files(dir, limits);
      }
      // Sockets, fifos and devices are left out: they are not code, and never copied.
    }
  };
  await walk('');
  return { root, files: files.sort(), bytes };
}
