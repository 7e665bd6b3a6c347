import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readDirectorySnapshot } from './snapshot-directory.ts';

let work: string;
let allowed: string;
let repo: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'tern-dir-snapshot-'));
  allowed = join(work, 'repos');
  repo = join(allowed, 'app');
  await mkdir(join(repo, 'src'), { recursive: true });
  await mkdir(join(repo, '.git'));
  await writeFile(join(repo, 'src/math.ts'), 'export function add() {}\n');
  await writeFile(join(repo, 'package.json'), '{}');
  await writeFile(join(repo, '.git/HEAD'), 'ref: refs/heads/main\n');
  await writeFile(join(work, 'secret.txt'), 'outside');
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const read = (dir: string, roots = [allowed]) =>
  readDirectorySnapshot(dir, { allowedRoots: roots });

describe('readDirectorySnapshot', () => {
  it('lists the files of an allowed folder, .git left out, links inside kept', async () => {
    await symlink('src/math.ts', join(repo, 'main.ts'));
    const snapshot = await read(repo);
    expect(snapshot.files).toEqual(['package.json', 'src/math.ts']);
    expect(snapshot.bytes).toBe(2 + 25);
    expect(snapshot.root).toBe(repo);
  });

  it('refuses a folder outside the allowed roots, whether it exists or not', async () => {
    for (const dir of [work, join(work, 'nope'), '/etc']) {
      await expect(read(dir)).rejects.toMatchObject({
        code: 'snapshot_dir_not_allowed',
        status: 403,
      });
    }
    await expect(read(repo, [])).rejects.toMatchObject({
      code: 'snapshot_dir_not_allowed',
      message: expect.stringContaining('accepts no directory snapshots'),
    });
  });

  it('refuses a folder that reaches outside through a symlink on its path', async () => {
    await symlink(work, join(allowed, 'sneaky'));
    await expect(read(join(allowed, 'sneaky'))).rejects.toMatchObject({
      code: 'snapshot_dir_not_allowed',
    });
  });

  it('says a missing repository is missing', async () => {
    await expect(read(join(allowed, 'missing'))).rejects.toMatchObject({
      code: 'snapshot_not_found',
      status: 400,
    });
    await expect(read(join(repo, 'package.json'))).rejects.toMatchObject({
      code: 'snapshot_not_found',
    });
  });

  it('refuses a symlink out of the workspace', async () => {
    await symlink('../../secret.txt', join(repo, 'src/secret.txt'));
    await expect(read(repo)).rejects.toMatchObject({
      code: 'snapshot_symlink_escape',
      message: expect.stringContaining('src/secret.txt -> ../../secret.txt'),
    });
  });

  it('wants an absolute path', async () => {
    await expect(read('repos/app')).rejects.toMatchObject({ code: 'invalid_source' });
  });

  it('enforces the caps', async () => {
    await expect(
      readDirectorySnapshot(repo, {
        allowedRoots: [allowed],
        limits: { maxBytes: 10, maxFiles: 10 },
      }),
    ).rejects.toMatchObject({ code: 'snapshot_too_large' });
    await expect(
      readDirectorySnapshot(repo, {
        allowedRoots: [allowed],
        limits: { maxBytes: 1e6, maxFiles: 1 },
      }),
    ).rejects.toMatchObject({ code: 'snapshot_too_many_files' });
  });
});
