import { constants } from 'node:fs';
import { open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { snapshotError } from '@tern/shared/batch/batch-errors';
import { checkSymlink, type Snapshot } from '@tern/shared/batch/snapshot';
import { mapLimit } from '@tern/shared/session/map-limit';
import type { SeedFile } from '@tern/shared/session/workspace-store';
import { DIR_MODE, EXEC_MODE, FILE_MODE, LINK_MODE } from '@tern/shared/session/workspace-tree';

/** Files read at once. */
const PARALLEL = 8;

/**
 * A prepared snapshot as the files of a workspace: its regular files (executable or not), its
 * symbolic links as links (their target is their content; the workspace store never follows
 * them) and its empty folders. Only what the snapshot reader accepted is taken: regular files
 * it listed, and links checked again here, since a server folder can change after it was read.
 * `.git` is left out, as the snapshot reader leaves it out.
 */
export async function snapshotSeedFiles(snapshot: Snapshot): Promise<SeedFile[]> {
  const listed = new Set(snapshot.files);
  const files: { path: string; kind: 'file' | 'link' }[] = [];
  const emptyDirs: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(snapshot.root, relative), { withFileTypes: true });
    let kept = 0;
    for (const entry of entries) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name === '.git') continue;
        kept += 1;
        await walk(path);
      } else if (entry.isSymbolicLink()) {
        kept += 1;
        files.push({ path, kind: 'link' });
      } else if (entry.isFile() && listed.has(path)) {
        kept += 1;
        files.push({ path, kind: 'file' });
      }
    }
    if (kept === 0 && relative !== '') emptyDirs.push(relative);
  };
  await walk('');
  const read = await mapLimit(files, PARALLEL, async ({ path, kind }): Promise<SeedFile> => {
    const full = join(snapshot.root, path);
    if (kind === 'link') {
      const target = await readlink(full);
      await checkSymlink(snapshot.root, full, target, path);
      return { path, bytes: Buffer.from(target), mode: LINK_MODE };
    }
    // O_NOFOLLOW: a file swapped for a link since the snapshot was read is refused, not followed.
    const handle = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => {
      throw snapshotError('snapshot_invalid', `${path} changed while the snapshot was read`);
    });
    try {
      const stat = await handle.stat();
      const bytes = await handle.readFile();
      return { path, bytes, mode: stat.mode & 0o100 ? EXEC_MODE : FILE_MODE };
    } finally {
      await handle.close();
    }
  });
  return [
    ...read,
    ...emptyDirs.map((path): SeedFile => ({ path, bytes: new Uint8Array(), mode: DIR_MODE })),
  ];
}
