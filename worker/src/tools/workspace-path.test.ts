import { mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveInWorkspace, WorkspaceEscapeError } from './workspace-path.ts';

let root: string;
beforeEach(async () => {
  root = await realpath(await mkdtemp(join(tmpdir(), 'tern-wspath-')));
  await mkdir(join(root, 'src'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('resolveInWorkspace', () => {
  it('resolves paths inside the workspace, existing or not', async () => {
    expect(await resolveInWorkspace(root, 'src')).toBe(join(root, 'src'));
    expect(await resolveInWorkspace(root, 'src/new/file.ts')).toBe(join(root, 'src/new/file.ts'));
    expect(await resolveInWorkspace(root, './src/../a.txt')).toBe(join(root, 'a.txt'));
  });

  it('refuses paths that climb out or are absolute elsewhere', async () => {
    await expect(resolveInWorkspace(root, '../x')).rejects.toBeInstanceOf(WorkspaceEscapeError);
    await expect(resolveInWorkspace(root, '/etc/passwd')).rejects.toThrow(/outside the workspace/);
  });

  it('refuses a new file below a symlink that leads out of the workspace', async () => {
    await symlink('/etc', join(root, 'etc-link'));
    await expect(resolveInWorkspace(root, 'etc-link/new-file')).rejects.toThrow(/links outside/);
    await expect(resolveInWorkspace(root, 'etc-link/passwd')).rejects.toThrow(/links outside/);
  });

  it('refuses a dangling symlink, which a write would follow to create its target', async () => {
    await symlink('/tmp/tern-dangling-target-does-not-exist', join(root, 'dangling'));
    await expect(resolveInWorkspace(root, 'dangling')).rejects.toThrow(/broken symlink/);
  });

  it('follows symlinks that stay inside', async () => {
    await symlink('src', join(root, 'src-link'));
    expect(await resolveInWorkspace(root, 'src-link/a.ts')).toBe(join(root, 'src/a.ts'));
  });
});
