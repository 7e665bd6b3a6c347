import { copyFile, mkdir, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { TernError } from '../errors/tern-error.ts';
import { snapshotError } from './batch-errors.ts';
import {
  checkSymlink,
  DEFAULT_SNAPSHOT_LIMITS,
  type Snapshot,
  type SnapshotLimits,
  safeRelativePath,
} from './snapshot.ts';
import { gunzipIfNeeded, readTar, type TarEntry } from './tar-reader.ts';

type Planned =
  | { type: 'file'; path: string; executable: boolean; data: Uint8Array }
  | { type: 'directory'; path: string }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'hardlink'; path: string; from: string };

/**
 * Unpacks a snapshot tarball (gzipped or not) into `dest`, which must be absent or empty. The
 * whole archive is checked before anything is written, so a refused archive leaves nothing
 * behind: paths that are absolute or contain `..`, symbolic links that point out of the snapshot,
 * hard links to anything but a file earlier in the archive, devices and fifos, and archives over
 * the size or file-count caps are each refused with their own code. Owners are not restored, and
 * modes only as executable or not. Symbolic links are created last, so no file is ever written
 * through one, and each is then resolved by the kernel to make sure it stays inside.
 */
export async function extractTarballSnapshot(
  archive: Uint8Array,
  dest: string,
  limits: SnapshotLimits = DEFAULT_SNAPSHOT_LIMITS,
): Promise<Snapshot> {
  // Headers and padding take about a kilobyte per entry beyond the files' own bytes.
  const tar = gunzipIfNeeded(archive, limits.maxBytes + (limits.maxFiles + 16) * 1024);
  const plan = planEntries(readTar(tar), limits);
  await mkdir(dest, { recursive: true });
  if ((await readdir(dest)).length > 0) throw new Error(`${dest} is not empty`);
  try {
    await writePlan(plan.entries, dest);
    const root = await realpath(dest);
    for (const entry of plan.entries) {
      if (entry.type === 'symlink') {
        await checkSymlink(root, join(root, entry.path), entry.target, entry.path);
      }
    }
    return { root, files: [...plan.files].sort(), bytes: plan.bytes };
  } catch (error) {
    await rm(dest, { recursive: true, force: true });
    if (TernError.isInstance(error)) throw error;
    const message = (error as Error).message;
    throw snapshotError('snapshot_invalid', `the archive cannot be unpacked: ${message}`);
  }
}

function planEntries(
  entries: TarEntry[],
  limits: SnapshotLimits,
): { entries: Planned[]; files: Set<string>; bytes: number } {
  const planned: Planned[] = [];
  const files = new Set<string>();
  let bytes = 0;
  const tooMany = () =>
    snapshotError('snapshot_too_many_files', `the snapshot has more than ${limits.maxFiles} files`);
  for (const entry of entries) {
    const path = safeRelativePath(entry.path);
    if (path === '') {
      if (entry.type === 'directory') continue; // the archive's own `./`
      throw snapshotError('snapshot_invalid', `an entry of type ${entry.type} has no name`);
    }
    switch (entry.type) {
      case 'directory':
        planned.push({ type: 'directory', path });
        break;
      case 'file':
        bytes += entry.data.length;
        if (bytes > limits.maxBytes) {
          throw snapshotError(
            'snapshot_too_large',
            `the snapshot's files exceed ${limits.maxBytes} bytes`,
          );
        }
        files.add(path);
        if (files.size > limits.maxFiles) throw tooMany();
        planned.push({
          type: 'file',
          path,
          executable: (entry.mode & 0o111) !== 0,
          data: entry.data,
        });
        break;
      case 'symlink': {
        // Caught here for a clear message before anything is written; the kernel has the final
        // word once every link exists (see checkSymlink).
        const lexical = posix.normalize(posix.join(posix.dirname(path), entry.target));
        if (entry.target.startsWith('/') || lexical === '..' || lexical.startsWith('../')) {
          throw snapshotError(
            'snapshot_symlink_escape',
            `${path} -> ${entry.target}: the link points out of the snapshot`,
            { path, target: entry.target },
          );
        }
        files.delete(path);
        planned.push({ type: 'symlink', path, target: entry.target });
        break;
      }
      case 'hardlink': {
        // A hard link names another member of the archive; anything else (a file on the host)
        // would be a way out. It becomes a copy of that member.
        let from: string;
        try {
          from = safeRelativePath(entry.target);
        } catch {
          from = '';
        }
        if (from === '' || !files.has(from)) {
          throw snapshotError(
            'snapshot_hardlink_escape',
            `${path} => ${entry.target}: a hard link must name a file earlier in the archive`,
            { path, target: entry.target },
          );
        }
        files.add(path);
        if (files.size > limits.maxFiles) throw tooMany();
        planned.push({ type: 'hardlink', path, from });
        break;
      }
    }
  }
  return { entries: planned, files, bytes };
}

async function writePlan(entries: Planned[], dest: string): Promise<void> {
  const made = new Set<string>();
  const parent = async (path: string) => {
    const dir = posix.dirname(path);
    if (dir === '.' || made.has(dir)) return;
    await mkdir(join(dest, dir), { recursive: true, mode: 0o755 });
    made.add(dir);
  };
  for (const entry of entries) {
    const target = join(dest, entry.path);
    if (entry.type === 'directory') {
      await mkdir(target, { recursive: true, mode: 0o755 });
      made.add(entry.path);
    } else if (entry.type === 'file') {
      await parent(entry.path);
      await writeFile(target, entry.data, { mode: entry.executable ? 0o755 : 0o644 });
    } else if (entry.type === 'hardlink') {
      await parent(entry.path);
      await copyFile(join(dest, entry.from), target);
    }
  }
  for (const entry of entries) {
    if (entry.type !== 'symlink') continue;
    await parent(entry.path);
    await symlink(entry.target, join(dest, entry.path));
  }
}
