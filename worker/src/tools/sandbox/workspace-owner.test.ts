import { link, lstat, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureOwnedBy, firstUnreachableAncestor } from './workspace-owner.ts';

const asRoot = process.getuid?.() === 0;
const ID = 65534;
let root: string;
let outside: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tern-owner-'));
  outside = await mkdtemp(join(tmpdir(), 'tern-owner-outside-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe.skipIf(!asRoot)('ensureOwnedBy (as root)', () => {
  it('hands files and directories to the sandbox uid', async () => {
    await mkdir(join(root, 'src/deep'), { recursive: true });
    await writeFile(join(root, 'src/deep/a.ts'), 'x');
    await ensureOwnedBy(root, ID, ID);
    for (const path of ['.', 'src', 'src/deep', 'src/deep/a.ts']) {
      const info = await lstat(join(root, path));
      expect([info.uid, info.gid], path).toEqual([ID, ID]);
    }
  });

  it('changes the link itself, never what a symlink points to', async () => {
    await writeFile(join(outside, 'host-file'), 'x');
    await symlink(join(outside, 'host-file'), join(root, 'link'));
    await symlink(outside, join(root, 'dir-link'));
    await ensureOwnedBy(root, ID, ID);
    expect((await lstat(join(outside, 'host-file'))).uid).toBe(0);
    expect((await lstat(outside)).uid).toBe(0);
    expect((await lstat(join(root, 'link'))).uid).toBe(ID);
  });

  it('leaves hard-linked files alone, which may also live elsewhere on the host', async () => {
    await writeFile(join(outside, 'host-file'), 'x');
    await link(join(outside, 'host-file'), join(root, 'hard'));
    await ensureOwnedBy(root, ID, ID);
    expect((await lstat(join(outside, 'host-file'))).uid).toBe(0);
  });
});

describe('firstUnreachableAncestor', () => {
  it('names the first directory above the workspace the uid cannot search', async () => {
    const { chmod } = await import('node:fs/promises');
    await mkdir(join(root, 'data/ws'), { recursive: true });
    await chmod(root, 0o700);
    expect(await firstUnreachableAncestor(join(root, 'data/ws'), ID, ID)).toBe(root);
    await chmod(root, 0o755);
    expect(await firstUnreachableAncestor(join(root, 'data/ws'), ID, ID)).toBeUndefined();
  });
});
