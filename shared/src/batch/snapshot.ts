import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import type { TernError } from '../errors/tern-error.ts';
import { snapshotError } from './batch-errors.ts';

/** A batch job's code, laid out in a folder: the files the targets are found in. */
export type Snapshot = {
  /** Absolute, symlinks resolved. */
  root: string;
  /** Regular files, relative POSIX paths, sorted. Symlinks are not listed. */
  files: string[];
  /** Their total size. */
  bytes: number;
};

export type SnapshotLimits = {
  /** Total bytes of regular files (after gunzip for a tarball). */
  maxBytes: number;
  maxFiles: number;
};

export const DEFAULT_SNAPSHOT_LIMITS: SnapshotLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxFiles: 50_000,
};

/**
 * The refusals of a folder that outgrows `limits` while it is walked (into a snapshot, or into a
 * tarball to upload as one); each walker checks them in its own order.
 */
export const folderOverLimit = {
  files: (dir: string, limits: SnapshotLimits): TernError =>
    snapshotError('snapshot_too_many_files', `${dir} holds more than ${limits.maxFiles} files`),
  bytes: (dir: string, limits: SnapshotLimits): TernError =>
    snapshotError('snapshot_too_large', `${dir} holds more than ${limits.maxBytes} bytes`),
};

/**
 * An archive member's path as a relative POSIX path inside the snapshot, or a
 * `snapshot_path_escape` error: absolute paths (`/x`, `C:\x`) and any `..` segment are refused
 * outright, even where `..` would land back inside, as GNU tar does by default.
 */
export function safeRelativePath(name: string): string {
  if (name.includes('\0')) throw snapshotError('snapshot_path_escape', 'a path contains NUL');
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name) || name.startsWith('\\')) {
    throw snapshotError('snapshot_path_escape', `${name}: absolute paths are not accepted`, {
      path: name,
    });
  }
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) {
    throw snapshotError('snapshot_path_escape', `${name}: paths may not climb out with ..`, {
      path: name,
    });
  }
  return segments.join('/');
}

export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
}

/**
 * Refuses a symbolic link at `linkPath` (on disk, inside `root`) that resolves outside `root`.
 * The kernel resolves it (realpath(3)), every link on the way included, so links that are each
 * harmless but climb out together (`a -> .`, `b -> a/..`) are caught. A dangling link is
 * accepted only when its target has no `..` and is relative: it can then only ever point below
 * its own folder, whatever is created there later.
 */
export async function checkSymlink(
  root: string,
  linkPath: string,
  target: string,
  displayPath: string,
): Promise<void> {
  const pointsOut = () =>
    snapshotError(
      'snapshot_symlink_escape',
      `${displayPath} -> ${target}: the link points out of the snapshot`,
      { path: displayPath, target },
    );
  if (target.startsWith('/')) throw pointsOut();
  let resolved: string;
  try {
    resolved = await realpath(linkPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ENOENT' || code === 'ENOTDIR') && !target.split('/').includes('..')) return;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw pointsOut();
    if (code === 'ELOOP') {
      throw snapshotError('snapshot_symlink_escape', `${displayPath} -> ${target}: a link loop`, {
        path: displayPath,
        target,
      });
    }
    throw error;
  }
  if (!isInside(root, resolved)) throw pointsOut();
}
