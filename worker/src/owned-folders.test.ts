import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { markOwned, removeAbandoned } from './owned-folders.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tern-owned-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  if (child.pid === undefined) throw new Error('the child did not start');
  return child.pid;
}

async function folder(name: string, owner?: { host: string; pid: number }): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  if (owner) await writeFile(join(dir, '.owner.json'), JSON.stringify(owner));
  return dir;
}

describe('removeAbandoned', () => {
  it('removes only the prefixed folders of this host whose process is gone', async () => {
    const dead = await deadPid();
    const own = await folder('w-own');
    await markOwned(own);
    const live = await folder('w-live');
    await markOwned(live);
    await folder('w-dead', { host: hostname(), pid: dead });
    await folder('w-elsewhere', { host: `${hostname()}-other`, pid: dead });
    await folder('w-unmarked');
    await folder('d-dead', { host: hostname(), pid: dead });

    await removeAbandoned(root, 'w-', own);

    expect((await readdir(root)).sort()).toEqual([
      'd-dead',
      'w-elsewhere',
      'w-live',
      'w-own',
      'w-unmarked',
    ]);
  });

  it('keeps its own folder even when its mark names a process that is gone', async () => {
    const own = await folder('w-own', { host: hostname(), pid: await deadPid() });
    await removeAbandoned(root, 'w-', own);
    expect(await readdir(root)).toEqual(['w-own']);
  });
});
