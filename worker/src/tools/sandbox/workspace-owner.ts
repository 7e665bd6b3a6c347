import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Hands the workspace tree to the sandbox's host uid, so the command (an unprivileged uid) can
 * change files the worker (root) wrote with write_file or while restoring the workspace. Only
 * entries not owned yet are touched. `find` does it because it is several times faster than a
 * walk in Node (about 0.1 s for 20,000 files already owned on a small VM), and this runs before
 * every command.
 *
 * Symlinks are neither followed (find -P, chown -h) nor left other filesystems (-xdev). Files
 * with several hard links are left alone: the sandbox cannot link host files into the workspace
 * (different mounts, protected_hardlinks), so such a file came from root, and chowning it could
 * hand over a file that also lives elsewhere on the host.
 */
export async function ensureOwnedBy(root: string, uid: number, gid: number): Promise<void> {
  // Directories always have several links; for anything else one link means no other name.
  const select = `-xdev ( -type d -o -links 1 ) ( ! -uid ${uid} -o ! -gid ${gid} )`;
  const change = ['-exec', 'chown', '-h', `${uid}:${gid}`, '{}', '+'];
  await run('find', ['-P', root, ...select.split(' '), ...change]);
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { PATH: '/usr/bin:/bin' } }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${file} failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/**
 * bwrap resolves the workspace path as the sandbox uid, so every directory above it must be
 * searchable by that uid. Returns the first one that is not, or undefined.
 */
export async function firstUnreachableAncestor(
  path: string,
  uid: number,
  gid: number,
): Promise<string | undefined> {
  let dir = dirname(path);
  for (;;) {
    const info = await stat(dir);
    const bit =
      info.uid === uid
        ? constants.S_IXUSR
        : info.gid === gid
          ? constants.S_IXGRP
          : constants.S_IXOTH;
    if ((info.mode & bit) === 0) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
