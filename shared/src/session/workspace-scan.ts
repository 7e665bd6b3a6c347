import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from './blob-checksum.ts';
import { mapLimit } from './map-limit.ts';
import { type WorkspaceLimits, WorkspaceTooLargeError } from './workspace-limit-error.ts';
import {
  DIR_MODE,
  EMPTY_SHA256,
  EXEC_MODE,
  FILE_MODE,
  LINK_MODE,
  pathProblem,
  type WorkspaceFile,
} from './workspace-tree.ts';

/**
 * A path of a local workspace folder as last seen: its tree record plus what `lstat` said then,
 * and when it was seen. Only this worker's; the stored tree has no timestamps.
 */
export type LocalFile = WorkspaceFile & {
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  seenAt: number;
};

/** What a local folder holds, by path, as far as this worker knows. */
export type FolderState = ReadonlyMap<string, LocalFile>;

/**
 * A file whose timestamps fall this close to when it was last seen may have been written again in
 * the same timestamp tick, with the same size, and look unchanged: it is hashed again. The
 * filesystems a worker's data dir lives on (ext4, xfs, btrfs, overlayfs, tmpfs) keep nanosecond
 * times from a clock that ticks every few milliseconds; ones with 1 to 2 second times (FAT, ext3)
 * are not fit for it.
 */
export const RACY_MS = 100;

/** Files read and hashed at once. */
const PARALLEL = 8;

export type ScanOptions = {
  /** Names the session in a limit error. */
  sessionId: string;
  limits?: WorkspaceLimits;
  /**
   * Receives the content of each file or symlink hashed by this scan, e.g. to upload it; paths
   * whose record still held are not read at all. Awaited, so at most a few files are in memory.
   */
  onHashed?: (file: WorkspaceFile, bytes: Uint8Array) => Promise<void>;
  now?: () => number;
};

export type ScanResult = {
  files: Map<string, LocalFile>;
  /** How many paths were read and hashed (the rest matched their record). */
  hashed: number;
  /**
   * Paths left out of the tree: sockets, fifos and devices, and names that are not valid UTF-8
   * (they could not be written back under the same name).
   */
  skipped: string[];
};

type Found = { path: string; kind: 'file' | 'link' | 'dir'; stat: Stats };

/**
 * Reads a workspace folder as a tree. Detection is cheap: a path whose size, mtime, ctime and inode
 * match its record in `previous` keeps its hash without being read (ctime also catches a tool that
 * restored an old mtime); only the others are hashed. Symlinks are recorded as links (their target
 * is their content) and never followed, so nothing outside the folder is read. Empty folders are
 * recorded; other folders are implied by their paths. The limits are checked on sizes from `lstat`
 * before anything is read or uploaded.
 */
export async function scanFolder(
  root: string,
  previous: FolderState | undefined,
  options: ScanOptions,
): Promise<ScanResult> {
  const now = options.now ?? Date.now;
  const seenAt = now();
  const { found, skipped } = await walk(root, options);
  let hashed = 0;
  const files = new Map<string, LocalFile>();
  const records = await mapLimit(found, PARALLEL, async (item): Promise<LocalFile> => {
    const known = previous?.get(item.path);
    if (known && unchanged(known, item)) return known;
    if (item.kind === 'dir') return local(item.path, EMPTY_SHA256, 0, DIR_MODE, item.stat, seenAt);
    hashed += 1;
    const abs = join(root, item.path);
    if (item.kind === 'link') {
      const target = await readlink(abs, { encoding: 'buffer' });
      const record = local(
        item.path,
        sha256Hex(target),
        target.byteLength,
        LINK_MODE,
        item.stat,
        seenAt,
      );
      await options.onHashed?.(withoutStat(record), target);
      return record;
    }
    // O_NOFOLLOW: a file swapped for a symlink since the walk is refused, not followed.
    const handle = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new Error(`${item.path} changed while the workspace was read`);
      const bytes = await handle.readFile();
      const mode = stat.mode & 0o100 ? EXEC_MODE : FILE_MODE;
      const record = local(item.path, sha256Hex(bytes), bytes.byteLength, mode, stat, seenAt);
      await options.onHashed?.(withoutStat(record), bytes);
      return record;
    } finally {
      await handle.close();
    }
  });
  for (const record of records) files.set(record.path, record);
  return { files, hashed, skipped };
}

/** The tree's view of a local record. */
export function withoutStat(file: LocalFile): WorkspaceFile {
  return { path: file.path, hash: file.hash, size: file.size, mode: file.mode };
}

/** A record for a path just written from `file` (restores), from the `lstat` after the write. */
export function recordOf(file: WorkspaceFile, stat: Stats, seenAt: number): LocalFile {
  return local(file.path, file.hash, file.size, file.mode, stat, seenAt);
}

async function walk(
  root: string,
  options: ScanOptions,
): Promise<{ found: Found[]; skipped: string[] }> {
  const found: Found[] = [];
  const skipped: string[] = [];
  const limits = options.limits;
  let bytes = 0;
  const tooLarge = (atLeast: boolean) => {
    if (!limits) return;
    if (found.length > limits.maxFiles || bytes > limits.maxBytes) {
      throw new WorkspaceTooLargeError(
        options.sessionId,
        { files: found.length, bytes, atLeast },
        limits,
      );
    }
  };
  const dirs = [''];
  while (dirs.length > 0) {
    const dir = dirs.pop()!;
    const abs = dir === '' ? root : join(root, dir);
    const dirents = await readdir(abs, { withFileTypes: true });
    if (dirents.length === 0 && dir !== '') {
      found.push({ path: dir, kind: 'dir', stat: await lstat(abs) });
    }
    const leaves: { path: string; kind: 'file' | 'link' }[] = [];
    for (const d of dirents) {
      const path = dir === '' ? d.name : `${dir}/${d.name}`;
      // Names that are not UTF-8 come back with U+FFFD in them and could not be written back.
      if (d.name.includes('\uFFFD') || pathProblem(path)) skipped.push(path);
      else if (d.isDirectory()) dirs.push(path);
      else if (d.isFile()) leaves.push({ path, kind: 'file' });
      else if (d.isSymbolicLink()) leaves.push({ path, kind: 'link' });
      else skipped.push(path);
    }
    const stats = await mapLimit(leaves, 32, (leaf) => lstat(join(root, leaf.path)));
    leaves.forEach((leaf, i) => {
      const stat = stats[i]!;
      found.push({ ...leaf, stat });
      bytes += stat.size;
    });
    tooLarge(true);
  }
  tooLarge(false);
  return { found, skipped };
}

function unchanged(known: LocalFile, item: Found): boolean {
  const kind = known.mode === DIR_MODE ? 'dir' : known.mode === LINK_MODE ? 'link' : 'file';
  if (kind !== item.kind) return false;
  if (kind === 'dir') return true;
  const { stat } = item;
  return (
    known.size === stat.size &&
    known.mtimeMs === stat.mtimeMs &&
    known.ctimeMs === stat.ctimeMs &&
    known.ino === stat.ino &&
    Math.max(stat.mtimeMs, stat.ctimeMs) < known.seenAt - RACY_MS
  );
}

function local(
  path: string,
  hash: string,
  size: number,
  mode: WorkspaceFile['mode'],
  stat: Stats,
  seenAt: number,
): LocalFile {
  return {
    path,
    hash,
    size,
    mode,
    mtimeMs: stat.mtimeMs,
    ctimeMs: stat.ctimeMs,
    ino: stat.ino,
    seenAt,
  };
}
