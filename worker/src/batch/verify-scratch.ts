import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Marks a process's folder with its host and pid, so a later process can tell it is abandoned. */
const OWNER_FILE = '.owner.json';

/**
 * This dispatcher's folder for verification runs, under `root` (in the data dir, which several
 * dispatchers of one host, or containers sharing a volume, may share). Runs of a dispatcher that
 * died mid-verification leave folders behind: those of this host's dead processes are removed.
 * Every folder is world-searchable, since the sandbox's uid must reach the run folders inside.
 */
export async function claimVerifyScratch(root: string): Promise<string> {
  await mkdir(root, { recursive: true });
  await chmod(root, 0o755);
  const dir = join(root, `d-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir);
  await chmod(dir, 0o755);
  await writeFile(join(dir, OWNER_FILE), JSON.stringify({ host: hostname(), pid: process.pid }));
  await removeAbandoned(root, dir).catch(() => {});
  return dir;
}

async function removeAbandoned(root: string, own: string): Promise<void> {
  for (const name of await readdir(root)) {
    const dir = join(root, name);
    if (!name.startsWith('d-') || dir === own) continue;
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
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
