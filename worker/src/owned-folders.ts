import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * A process's working folders (a worker's workspaces, a dispatcher's verification runs) outlive
 * it when it dies: each is marked with its owner's host and pid, so a later process of the same
 * host can tell which are abandoned and remove them.
 */

/** Marks a process's folder with its host and pid, so a later process can tell it is abandoned. */
const OWNER_FILE = '.owner.json';

/** Marks `dir` (already made) as this process's. */
export async function markOwned(dir: string): Promise<void> {
  await writeFile(join(dir, OWNER_FILE), JSON.stringify({ host: hostname(), pid: process.pid }));
}

/**
 * Removes the folders in `root` whose names start with `prefix`, other than `own`, that a process
 * of this host marked and that is gone: nothing will read them again. A folder without a readable
 * mark, or marked on another host (a shared volume), is left alone.
 */
export async function removeAbandoned(root: string, prefix: string, own: string): Promise<void> {
  for (const name of await readdir(root)) {
    const dir = join(root, name);
    if (!name.startsWith(prefix) || dir === own) continue;
    const owner = await readFile(join(dir, OWNER_FILE), 'utf8').then(
      (text) => JSON.parse(text) as { host?: string; pid?: number },
      () => undefined,
    );
    if (owner?.host === hostname() && typeof owner.pid === 'number' && !alive(owner.pid)) {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
