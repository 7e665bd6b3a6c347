import {
  lstat,
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
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from './blob-checksum.ts';
import { applyDiff } from './workspace-apply.ts';
import { scanFolder, withoutStat } from './workspace-scan.ts';
import {
  DIR_MODE,
  diffTrees,
  EMPTY_SHA256,
  EXEC_MODE,
  FILE_MODE,
  LINK_MODE,
  type WorkspaceFile,
} from './workspace-tree.ts';

let dir: string;
let outside: string;
const contents = new Map<string, Uint8Array>();

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tern-apply-'));
  outside = await mkdtemp(join(tmpdir(), 'tern-apply-outside-'));
  contents.clear();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

function entry(path: string, content: string, mode: WorkspaceFile['mode'] = FILE_MODE) {
  if (mode === DIR_MODE) return { path, hash: EMPTY_SHA256, size: 0, mode };
  const bytes = Buffer.from(content);
  contents.set(sha256Hex(bytes), bytes);
  return { path, hash: sha256Hex(bytes), size: bytes.byteLength, mode };
}

const fetched: string[] = [];
const fetch = async (file: WorkspaceFile) => {
  fetched.push(file.path);
  const bytes = contents.get(file.hash);
  if (!bytes) throw new Error(`no content for ${file.path}`);
  return bytes;
};

/** The folder as a tree, read back from disk. */
async function folderTree(): Promise<WorkspaceFile[]> {
  const { files } = await scanFolder(dir, undefined, { sessionId: 'ses_t' });
  return [...files.values()].map(withoutStat).sort((a, b) => (a.path < b.path ? -1 : 1));
}

describe('applyDiff', () => {
  it('materialises a tree into an empty folder: files, modes, links, empty folders', async () => {
    const tree = [
      entry('bin/run', '#!/bin/sh\necho hi\n', EXEC_MODE),
      entry('empty', '', DIR_MODE),
      entry('link', 'src/main.py', LINK_MODE),
      entry('src/main.py', 'print(1)\n'),
    ];
    await applyDiff(dir, diffTrees([], tree), { fetch });
    expect(await folderTree()).toEqual(tree);
    expect((await stat(join(dir, 'bin/run'))).mode & 0o777).toBe(0o755);
    expect(await readlink(join(dir, 'link'))).toBe('src/main.py');
    expect((await readdir(dir)).filter((n) => n.startsWith('.tern-restore'))).toEqual([]);
  });

  it('applies only the difference from the tree the folder holds', async () => {
    const before = [entry('a', 'a1'), entry('b', 'b1'), entry('gone/deep/c', 'c1')];
    await applyDiff(dir, diffTrees([], before), { fetch });
    fetched.length = 0;
    const after = [entry('a', 'a1'), entry('b', 'b2'), entry('new', 'n')];
    const written = await applyDiff(dir, diffTrees(before, after), { fetch });
    expect(fetched.sort()).toEqual(['b', 'new']);
    expect(written.map((r) => r.path).sort()).toEqual(['b', 'new']);
    expect(await folderTree()).toEqual(after);
    // The folders the removed file lived in went with it.
    expect(await readdir(dir)).not.toContain('gone');
  });

  it('never writes through a symlink: a link where a folder must be is replaced', async () => {
    await writeFile(join(outside, 'x'), 'outside');
    const before = [entry('a', join(outside), LINK_MODE)];
    await applyDiff(dir, diffTrees([], before), { fetch });
    expect((await lstat(join(dir, 'a'))).isSymbolicLink()).toBe(true);

    const after = [entry('a/x', 'inside')];
    await applyDiff(dir, diffTrees(before, after), { fetch });
    expect(await readFile(join(outside, 'x'), 'utf8')).toBe('outside');
    expect((await lstat(join(dir, 'a'))).isDirectory()).toBe(true);
    expect(await readFile(join(dir, 'a/x'), 'utf8')).toBe('inside');
  });

  it('replaces a symlink at a file path instead of writing to its target', async () => {
    await writeFile(join(outside, 'target'), 'keep me');
    // As if a tool left a link where the tree has a file and the folder was not rescanned.
    await symlink(join(outside, 'target'), join(dir, 'f'));
    await applyDiff(dir, diffTrees([], [entry('f', 'restored')]), { fetch });
    expect(await readFile(join(outside, 'target'), 'utf8')).toBe('keep me');
    expect((await lstat(join(dir, 'f'))).isFile()).toBe(true);
    expect(await readFile(join(dir, 'f'), 'utf8')).toBe('restored');
  });

  it('does not remove through a symlinked folder', async () => {
    await writeFile(join(outside, 'victim'), 'still here');
    await symlink(outside, join(dir, 'd'));
    // A stale record of d/victim as a file of the workspace.
    await applyDiff(dir, { write: [], remove: [entry('d/victim', 'x')] }, { fetch });
    expect(await readFile(join(outside, 'victim'), 'utf8')).toBe('still here');
  });

  it('turns a folder into a file and a file into a folder', async () => {
    const before = [entry('p/q', 'q'), entry('r', 'r')];
    await applyDiff(dir, diffTrees([], before), { fetch });
    const after = [entry('p', 'now a file'), entry('r/s', 's')];
    await applyDiff(dir, diffTrees(before, after), { fetch });
    expect(await folderTree()).toEqual(after);
  });
});
