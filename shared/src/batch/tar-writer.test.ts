import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractTarballSnapshot } from './snapshot-extract.ts';
import { gunzipIfNeeded, readTar, type TarEntry } from './tar-reader.ts';
import { tarDirectory } from './tar-writer.ts';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'tern-tar-writer-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const deep = `src/${'a-rather-long-folder-name/'.repeat(6)}deep-module.ts`;
const linkTarget = `../${'long-link-target-segment/'.repeat(5)}x.ts`;

/** A small project with what the writer must keep, and what it must leave out. */
async function project(): Promise<string> {
  const src = join(work, 'project');
  const write = async (path: string, text: string) => {
    await mkdir(join(src, path, '..'), { recursive: true });
    await writeFile(join(src, path), text);
  };
  await write('package.json', '{"devDependencies":{"vitest":"^4.0.0"}}\n');
  await write('src/math.ts', 'export const add = (a: number, b: number) => a + b;\n');
  await write(deep, 'export const deep = 1;\n');
  await write('src/ünïcödé.ts', 'export const u = 1;\n');
  await write('run.sh', '#!/bin/sh\necho hi\n');
  await chmod(join(src, 'run.sh'), 0o755);
  await mkdir(join(src, 'empty'));
  await symlink('src/math.ts', join(src, 'math-link.ts'));
  await symlink(linkTarget, join(src, 'src/long-link.ts'));
  await write('.git/HEAD', 'ref: refs/heads/main\n');
  await write('node_modules/dep/index.js', 'module.exports = 1;\n');
  await write('pkg/node_modules/dep/index.js', 'module.exports = 2;\n');
  await write('py/__pycache__/m.cpython-312.pyc', 'bytecode');
  await write('env/pyvenv.cfg', 'home = /usr/bin\n');
  await symlink('/usr/bin/python3', join(src, 'env/python'));
  await write('.DS_Store', 'finder');
  return src;
}

const byPath = (entries: TarEntry[]) => new Map(entries.map((e) => [e.path, e]));

describe('tarDirectory', () => {
  it('round-trips through the reader: files, modes, long and non-ASCII names, links, folders', async () => {
    const src = await project();
    const tar = await tarDirectory(src);
    const entries = readTar(gunzipIfNeeded(tar.archive, 10 * 1024 * 1024));
    const found = byPath(entries);

    expect(entries.map((e) => e.path)).toEqual([
      'empty/',
      'math-link.ts',
      'package.json',
      'pkg/',
      'py/',
      'run.sh',
      'src/',
      'src/a-rather-long-folder-name/',
      ...Array.from({ length: 5 }, (_, i) => `src/${'a-rather-long-folder-name/'.repeat(i + 2)}`),
      deep,
      'src/long-link.ts',
      'src/math.ts',
      'src/ünïcödé.ts',
    ]);
    const file = (path: string) => {
      const entry = found.get(path);
      if (entry?.type !== 'file') throw new Error(`${path} is not a file in the archive`);
      return entry;
    };
    expect(Buffer.from(file(deep).data).toString()).toBe('export const deep = 1;\n');
    expect(Buffer.from(file('src/ünïcödé.ts').data).toString()).toBe('export const u = 1;\n');
    expect(file('run.sh').mode & 0o777).toBe(0o755);
    expect(file('package.json').mode & 0o777).toBe(0o644);
    expect(found.get('math-link.ts')).toEqual({
      type: 'symlink',
      path: 'math-link.ts',
      target: 'src/math.ts',
    });
    expect(found.get('src/long-link.ts')).toMatchObject({ type: 'symlink', target: linkTarget });
    expect(tar.files).toBe(5);
    expect(tar.skippedDirs.sort()).toEqual([
      '.git',
      'env',
      'node_modules',
      'pkg/node_modules',
      'py/__pycache__',
    ]);
    expect(tar.unsupported).toEqual([]);
  });

  it('writes what the system tar lists, and what the snapshot extractor restores', async () => {
    const src = join(work, 'small');
    await mkdir(join(src, 'lib'), { recursive: true });
    await writeFile(join(src, 'lib/util.py'), 'def f():\n    return 1\n');
    await writeFile(join(src, deep.replaceAll('/', '_')), 'long\n');
    await writeFile(join(src, 'tool.sh'), '#!/bin/sh\n');
    await chmod(join(src, 'tool.sh'), 0o755);
    await symlink('lib/util.py', join(src, 'util-link.py'));
    const tar = await tarDirectory(src);
    const tgz = join(work, 'small.tgz');
    await writeFile(tgz, tar.archive);

    const listed = spawnSync('tar', ['-tzf', tgz], { encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout.trim().split('\n').sort()).toEqual(
      ['lib/', 'lib/util.py', deep.replaceAll('/', '_'), 'tool.sh', 'util-link.py'].sort(),
    );

    const dest = join(work, 'restored');
    const snapshot = await extractTarballSnapshot(tar.archive, dest);
    expect(snapshot.files).toEqual(['lib/util.py', deep.replaceAll('/', '_'), 'tool.sh']);
    expect((await stat(join(dest, 'tool.sh'))).mode & 0o777).toBe(0o755);
    expect(await readlink(join(dest, 'util-link.py'))).toBe('lib/util.py');
  });

  it('gives the same bytes for the same folder, and an uncompressed tar on request', async () => {
    const src = await project();
    const [a, b] = [await tarDirectory(src), await tarDirectory(src)];
    expect(a.archive.equals(b.archive)).toBe(true);
    const plain = await tarDirectory(src, { gzip: false });
    expect(Buffer.from(gunzipIfNeeded(a.archive, 1 << 24)).equals(plain.archive)).toBe(true);
    expect(plain.archive.length % 512).toBe(0);
  });

  it('refuses a folder over the file, byte or archive caps with the snapshot codes', async () => {
    const src = await project();
    await expect(
      tarDirectory(src, { limits: { maxBytes: 1 << 20, maxFiles: 3 } }),
    ).rejects.toMatchObject({ code: 'snapshot_too_many_files', status: 413 });
    await expect(
      tarDirectory(src, { limits: { maxBytes: 50, maxFiles: 100 } }),
    ).rejects.toMatchObject({ code: 'snapshot_too_large', status: 413 });
    await expect(tarDirectory(src, { maxArchiveBytes: 100 })).rejects.toMatchObject({
      code: 'snapshot_too_large',
    });
    await expect(tarDirectory(join(work, 'absent'))).rejects.toMatchObject({
      code: 'snapshot_not_found',
    });
  });

  it('leaves out fifos, and says so', async () => {
    const src = join(work, 'with-fifo');
    await mkdir(src);
    await writeFile(join(src, 'a.ts'), 'export {};\n');
    const made = spawnSync('mkfifo', [join(src, 'pipe')], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const tar = await tarDirectory(src);
    expect(tar.unsupported).toEqual(['pipe']);
    expect(readTar(gunzipIfNeeded(tar.archive, 1 << 20)).map((e) => e.path)).toEqual(['a.ts']);
  });
});
