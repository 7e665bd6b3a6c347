import { lstat, readlink } from 'node:fs/promises';
import type { HostEntry, HostLayout } from './bwrap-args.ts';

/** lstat of each path, for the mount plan; paths that do not exist are left out. */
export async function inspectHost(paths: readonly string[]): Promise<HostLayout> {
  const layout = new Map<string, HostEntry>();
  await Promise.all(
    paths.map(async (path) => {
      try {
        const info = await lstat(path);
        if (info.isSymbolicLink())
          layout.set(path, { kind: 'symlink', target: await readlink(path) });
        else layout.set(path, { kind: info.isDirectory() ? 'dir' : 'file' });
      } catch {
        // Absent on this host: nothing to mount or mask.
      }
    }),
  );
  return layout;
}
