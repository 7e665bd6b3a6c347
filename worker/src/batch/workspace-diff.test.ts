import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '@tern/shared/session/blob-checksum';
import { FileBlobStore } from '@tern/shared/session/file-blob-store';
import type { LogEntry } from '@tern/shared/session/log-entry';
import {
  seedWorkspace,
  storeWorkspaceBase,
  WorkspaceObjects,
} from '@tern/shared/session/workspace-store';
import {
  buildTree,
  FILE_MODE,
  LINK_MODE,
  type WorkspaceFile,
  type WorkspaceMode,
} from '@tern/shared/session/workspace-tree';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capOutput, OUTPUT_HEAD, OUTPUT_TAIL, overlaid } from './verify-run.ts';
import { readChanged, workspaceDiff } from './workspace-diff.ts';

let dir: string;
let blobs: FileBlobStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tern-ws-diff-'));
  blobs = new FileBlobStore(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const file = (path: string, content: string | Uint8Array, mode: WorkspaceMode = FILE_MODE) => {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return { path, bytes, hash: sha256Hex(bytes), size: bytes.byteLength, mode };
};

/** A batch snapshot, a target session based on it, and the tree its agent left. */
async function scenario(after: ReturnType<typeof file>[], removed: string[] = []) {
  const snapshot = [
    file('src/math.ts', 'export const two = 2;\n'),
    file('src/math.test.ts', 'old test\n'),
    file('README.md', 'readme\n'),
  ];
  const base = await seedWorkspace(blobs, 'bat_snapshot0000001', snapshot);
  const sessionId = `ses_diff${Math.floor(Math.random() * 1e9)}`;
  await storeWorkspaceBase(blobs, sessionId, { ...base, ancestors: ['bat_snapshot0000001'] });
  const objects = new WorkspaceObjects(blobs, sessionId, ['bat_snapshot0000001']);
  for (const f of after) await objects.putBlob(f.hash, f.bytes);
  const written = new Set(after.map((f) => f.path));
  const listed: WorkspaceFile[] = [
    ...snapshot.filter((f) => !written.has(f.path) && !removed.includes(f.path)),
    ...after,
  ].map(({ path, hash, size, mode }) => ({ path, hash, size, mode }));
  const tree = buildTree(listed);
  await objects.writeTree(tree);
  const entries = [{ seq: 1, turnId: 't', epoch: 1, at: 1, workspace: tree.hash }] as LogEntry[];
  return workspaceDiff(blobs, sessionId, entries);
}

describe('workspaceDiff and readChanged', () => {
  it('lists what the session changed from the snapshot, with the snapshot’s content', async () => {
    const diff = await scenario(
      [
        file('src/math.test.ts', 'new test\n'),
        file('src/extra.test.ts', 'extra\n'),
        file('node_modules/x/index.js', 'x'),
      ],
      ['README.md'],
    );
    expect(diff.changed.map((f) => f.path).sort()).toEqual([
      'node_modules/x/index.js',
      'src/extra.test.ts',
      'src/math.test.ts',
    ]);
    expect(diff.removed).toEqual(['README.md']);
    const read = await readChanged(diff, ['src/math.test.ts', 'src/extra.test.ts']);
    expect(read.files.sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual([
      { path: 'src/extra.test.ts', content: 'extra\n', original: null },
      { path: 'src/math.test.ts', content: 'new test\n', original: 'old test\n' },
    ]);
    expect(read.unreadable).toEqual([]);
  });

  it('leaves binary files and symlinks out, saying why', async () => {
    const diff = await scenario([
      file('tests/data.bin', new Uint8Array([0xff, 0xfe, 0x00, 0x01])),
      file('tests/link', 'src/math.ts', LINK_MODE),
    ]);
    const read = await readChanged(diff, ['tests/data.bin', 'tests/link']);
    expect(read.files).toEqual([]);
    expect(read.unreadable).toEqual([
      { path: 'tests/data.bin', reason: 'not UTF-8 text' },
      { path: 'tests/link', reason: 'a symbolic link' },
    ]);
  });

  it('finds nothing changed in a session whose log never recorded a tree', async () => {
    const diff = await scenario([]);
    const untouched = await workspaceDiff(blobs, diff.objects.sessionId, []);
    expect(untouched.changed).toEqual([]);
    expect(untouched.final.hash).toBe(untouched.snapshot.hash);
  });
});

describe('overlaid', () => {
  const entry = (path: string): WorkspaceFile => ({
    path,
    hash: sha256Hex(path),
    size: path.length,
    mode: FILE_MODE,
  });

  it('lays kept files over the snapshot, replacing what stood in their way', () => {
    const result = overlaid(
      [entry('a'), entry('b/c'), entry('d/e'), entry('z')],
      [entry('a/new.test.ts'), entry('b/c'), entry('d')],
    );
    expect(result.map((f) => f.path)).toEqual(['a/new.test.ts', 'b/c', 'd', 'z']);
  });
});

describe('capOutput', () => {
  it('keeps the head and the longer tail of a long output', () => {
    expect(capOutput('short')).toBe('short');
    const long = `${'h'.repeat(OUTPUT_HEAD)}${'m'.repeat(1000)}${'t'.repeat(OUTPUT_TAIL)}`;
    const capped = capOutput(long);
    expect(capped).toBe(
      `${'h'.repeat(OUTPUT_HEAD)}\n[… 1000 characters omitted …]\n${'t'.repeat(OUTPUT_TAIL)}`,
    );
  });
});
