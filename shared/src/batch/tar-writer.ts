import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { snapshotError } from './batch-errors.ts';
import { DEFAULT_SNAPSHOT_LIMITS, folderOverLimit, type SnapshotLimits } from './snapshot.ts';
import { endOfArchive, tarMember } from './tar-header.ts';

/**
 * Folders left out of a snapshot by name, without reading any `.gitignore`: version control
 * metadata (not the code, and often the biggest part of a checkout), installed dependencies (the
 * test command installs or finds its own; `node_modules` alone can be larger than the cap), and
 * caches and outputs that tools rebuild (`__pycache__`, `.pytest_cache`, `coverage`, `.next`…).
 * `dist` and `build` are kept: some projects keep code there that their tests import.
 */
export const DEFAULT_SKIPPED_DIRS: readonly string[] = [
  '.git',
  '.hg',
  '.svn',
  'node_modules',
  '__pycache__',
  '.pytest_cache',
  '.mypy_cache',
  '.ruff_cache',
  '.tox',
  '.nox',
  '.venv',
  '.next',
  '.turbo',
  '.vite',
  '.parcel-cache',
  'coverage',
];

/** Files left out by name: desktop metadata that is never code. */
export const DEFAULT_SKIPPED_FILES: readonly string[] = ['.DS_Store', 'Thumbs.db'];

export type DirectoryTarOptions = {
  /** Folder names not walked, anywhere in the tree (default DEFAULT_SKIPPED_DIRS). */
  skipDirs?: readonly string[];
  /** Caps on the files' own bytes and count, the same the server applies (snapshot.ts). */
  limits?: SnapshotLimits;
  /** A cap on the archive itself, after gzip: the request's limit on an inline tarball. */
  maxArchiveBytes?: number;
  /** Gzipped unless false. */
  gzip?: boolean;
};

export type DirectoryTar = {
  archive: Buffer;
  /** Regular files written, and their total size before compression. */
  files: number;
  bytes: number;
  /** Paths left out because a tar snapshot cannot hold them (sockets, fifos, devices). */
  unsupported: string[];
  /** Folders left out (by name, or as Python virtual environments), relative POSIX paths. */
  skippedDirs: string[];
};

/**
 * Archives a project folder as a batch job's snapshot: POSIX ustar with pax records for long
 * names (tar-header.ts), gzipped, members in byte order of their paths so the same folder gives
 * the same member list. Symbolic links are stored as links, never followed (the server decides
 * whether they stay inside); modes are kept, owners and devices not. A folder holding a
 * `pyvenv.cfg` is a Python virtual environment, full of links to the host's interpreter, and is
 * left out like `.venv`. Files are read one at a time and compressed as they go, so memory stays
 * near the size of the archive.
 */
export async function tarDirectory(
  dir: string,
  options: DirectoryTarOptions = {},
): Promise<DirectoryTar> {
  const limits = options.limits ?? DEFAULT_SNAPSHOT_LIMITS;
  const skipDirs = new Set(options.skipDirs ?? DEFAULT_SKIPPED_DIRS);
  const skipFiles = new Set(DEFAULT_SKIPPED_FILES);
  const maxArchive = options.maxArchiveBytes ?? Number.POSITIVE_INFINITY;
  const result = { files: 0, bytes: 0, unsupported: [] as string[], skippedDirs: [] as string[] };
  if (!(await lstat(dir).catch(() => undefined))?.isDirectory()) {
    throw snapshotError('snapshot_not_found', `${dir} is not a folder`);
  }

  async function* members(relative: string): AsyncGenerator<Buffer> {
    let entries: Dirent[];
    try {
      entries = await readdir(join(dir, relative), { withFileTypes: true });
    } catch (error) {
      throw snapshotError('snapshot_invalid', `${relative || '.'}: ${(error as Error).message}`);
    }
    entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    for (const entry of entries) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const full = join(dir, path);
      const stat = await lstat(full);
      const mtime = Math.floor(stat.mtimeMs / 1000);
      if (stat.isSymbolicLink()) {
        const target = await readlink(full);
        yield* tarMember({ path, type: 'symlink', mode: 0o777, size: 0, mtime, linkpath: target });
      } else if (stat.isDirectory()) {
        if (skipDirs.has(entry.name) || (await isVirtualEnv(full))) {
          result.skippedDirs.push(path);
          continue;
        }
        yield* tarMember({ path: `${path}/`, type: 'directory', mode: stat.mode, size: 0, mtime });
        yield* members(path);
      } else if (stat.isFile()) {
        if (skipFiles.has(entry.name)) continue;
        const data = await readFile(full);
        result.files += 1;
        result.bytes += data.length;
        if (result.files > limits.maxFiles) throw folderOverLimit.files(dir, limits);
        if (result.bytes > limits.maxBytes) throw folderOverLimit.bytes(dir, limits);
        yield* tarMember({ path, type: 'file', mode: stat.mode, size: data.length, mtime }, data);
      } else {
        result.unsupported.push(path);
      }
    }
  }

  async function* archive(): AsyncGenerator<Buffer> {
    yield* members('');
    yield endOfArchive();
  }

  const chunks: Buffer[] = [];
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > maxArchive) {
        done(
          snapshotError(
            'snapshot_too_large',
            `the archive of ${dir} exceeds ${maxArchive} bytes${options.gzip === false ? '' : ' compressed'}`,
          ),
        );
        return;
      }
      chunks.push(chunk);
      done();
    },
  });
  const source = Readable.from(archive(), { objectMode: false });
  if (options.gzip === false) await pipeline(source, sink);
  else await pipeline(source, createGzip(), sink);
  return { archive: Buffer.concat(chunks), ...result };
}

async function isVirtualEnv(folder: string): Promise<boolean> {
  return (await lstat(join(folder, 'pyvenv.cfg')).catch(() => undefined))?.isFile() === true;
}
