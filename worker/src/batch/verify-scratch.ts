import { randomBytes } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { markOwned, removeAbandoned } from '../owned-folders.ts';

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
  await markOwned(dir);
  await removeAbandoned(root, 'd-', dir).catch(() => {});
  return dir;
}
