import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractTarballSnapshot } from './snapshot-extract.ts';
import { makeTar, type TestTarEntry } from './tar-test-kit.ts';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'tern-snapshot-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const dest = () => join(work, 'snapshot');

async function refused(entries: TestTarEntry[], code: string) {
  const error = await extractTarballSnapshot(makeTar(entries), dest()).catch((e: unknown) => e);
  expect(error).toMatchObject({ code });
  // Nothing is left behind, inside or next to the snapshot.
  expect(existsSync(dest()) ? await readdir(dest()) : []).toEqual([]);
  expect((await readdir(work)).filter((n) => n !== 'snapshot')).toEqual([]);
  return error as { code: string; status: number; message: string };
}

describe('extractTarballSnapshot', () => {
  it.each(['gnu', 'posix'])(
    'unpacks what the system tar writes (%s): nested folders, long names, modes, links inside',
    async (format) => {
      const src = join(work, 'src');
      const deep = `pkg/${'a-very-long-folder-name/'.repeat(5)}math.ts`;
      await mkdir(join(src, deep, '..'), { recursive: true });
      const contents = {
        [deep]: 'export const add = (a: number, b: number) => a + b;\n',
        'run.sh': '#!/bin/sh\necho hi\n',
        'lib/util.py': 'def f():\n    return 1\n',
      };
      await mkdir(join(src, 'lib'));
      for (const [path, text] of Object.entries(contents)) await writeFile(join(src, path), text);
      await chmod(join(src, 'run.sh'), 0o755);
      await symlink('lib/util.py', join(src, 'util-link.py'));
      const tarball = join(work, 'src.tgz');
      const tar = spawnSync('tar', [`--format=${format}`, '-czf', tarball, '-C', src, '.'], {
        encoding: 'utf8',
      });
      expect(tar.status, tar.stderr).toBe(0);

      const snapshot = await extractTarballSnapshot(await readFile(tarball), dest());
      expect(snapshot.files).toEqual(['lib/util.py', deep, 'run.sh']);
      expect(snapshot.bytes).toBe(Object.values(contents).join('').length);
      expect(await readFile(join(dest(), deep), 'utf8')).toContain('export const add');
      expect((await stat(join(dest(), 'run.sh'))).mode & 0o777).toBe(0o755);
      expect((await stat(join(dest(), 'lib/util.py'))).mode & 0o777).toBe(0o644);
      expect(await readlink(join(dest(), 'util-link.py'))).toBe('lib/util.py');
    },
  );

  it('copies a hard link to an earlier member, and keeps a dangling link that stays below', async () => {
    const snapshot = await extractTarballSnapshot(
      makeTar([
        { type: 'file', path: 'a.txt', content: 'alpha' },
        { type: 'hardlink', path: 'b.txt', target: './a.txt' },
        { type: 'symlink', path: 'later', target: 'generated/out.txt' },
        { type: 'file', path: `${'long/'.repeat(30)}name.txt`, content: 'pax' },
      ]),
      dest(),
    );
    expect(snapshot.files).toEqual(['a.txt', 'b.txt', `${'long/'.repeat(30)}name.txt`]);
    expect(await readFile(join(dest(), 'b.txt'), 'utf8')).toBe('alpha');
    expect(await readlink(join(dest(), 'later'))).toBe('generated/out.txt');
  });

  it('refuses a path that climbs out with ../', async () => {
    const error = await refused(
      [
        { type: 'file', path: 'ok.txt', content: 'x' },
        { type: 'file', path: '../escaped.txt', content: 'x' },
      ],
      'snapshot_path_escape',
    );
    expect(error.status).toBe(400);
    expect(error.message).toContain('../escaped.txt');
    await refused([{ type: 'file', path: 'a/../../b', content: 'x' }], 'snapshot_path_escape');
  });

  it('refuses absolute paths', async () => {
    await refused([{ type: 'file', path: '/tmp/owned', content: 'x' }], 'snapshot_path_escape');
  });

  it('refuses symbolic links out of the workspace: absolute, relative, or built from links inside', async () => {
    await refused(
      [{ type: 'symlink', path: 'passwd', target: '/etc/passwd' }],
      'snapshot_symlink_escape',
    );
    await refused(
      [{ type: 'symlink', path: 'sub/up', target: '../../outside' }],
      'snapshot_symlink_escape',
    );
    // Each looks harmless alone: `a` is the root itself, `b` is `a/..`, the root's parent.
    await refused(
      [
        { type: 'symlink', path: 'a', target: '.' },
        { type: 'symlink', path: 'b', target: 'a/..' },
      ],
      'snapshot_symlink_escape',
    );
  });

  it('refuses hard links to anything but an earlier member of the archive', async () => {
    await refused(
      [{ type: 'hardlink', path: 'passwd', target: '/etc/passwd' }],
      'snapshot_hardlink_escape',
    );
    await refused(
      [
        { type: 'hardlink', path: 'early', target: 'late.txt' },
        { type: 'file', path: 'late.txt', content: 'x' },
      ],
      'snapshot_hardlink_escape',
    );
  });

  it('refuses devices and fifos', async () => {
    await refused([{ type: 'fifo', path: 'pipe' }], 'snapshot_unsupported_entry');
  });

  it('refuses snapshots over the caps, a gzip bomb included, before writing anything', async () => {
    const limits = { maxBytes: 1000, maxFiles: 2 };
    const many = [1, 2, 3].map((i) => ({ type: 'file' as const, path: `f${i}`, content: 'x' }));
    await expect(extractTarballSnapshot(makeTar(many), dest(), limits)).rejects.toMatchObject({
      code: 'snapshot_too_many_files',
      status: 413,
    });
    const big = [{ type: 'file' as const, path: 'big', content: 'x'.repeat(1001) }];
    await expect(extractTarballSnapshot(makeTar(big), dest(), limits)).rejects.toMatchObject({
      code: 'snapshot_too_large',
    });
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(20_000);
    await expect(extractTarballSnapshot(bomb, dest(), limits)).rejects.toMatchObject({
      code: 'snapshot_too_large',
    });
    expect(existsSync(dest())).toBe(false);
  });

  it('refuses bytes that are not a tar archive, or one cut short', async () => {
    await expect(extractTarballSnapshot(randomBytes(2048), dest())).rejects.toMatchObject({
      code: 'snapshot_invalid',
    });
    await expect(
      extractTarballSnapshot(Buffer.from([0x1f, 0x8b, 1, 2, 3]), dest()),
    ).rejects.toMatchObject({ code: 'snapshot_invalid' });
    const whole = makeTar([{ type: 'file', path: 'a', content: 'y'.repeat(2000) }]);
    await expect(extractTarballSnapshot(whole.subarray(0, 1024), dest())).rejects.toMatchObject({
      code: 'snapshot_invalid',
      message: expect.stringContaining('ends in the middle'),
    });
  });
});
