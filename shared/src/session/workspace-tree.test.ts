import { describe, expect, it } from 'vitest';
import { sha256Hex } from './blob-checksum.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import type { LogEntry } from './log-entry.ts';
import {
  buildTree,
  DIR_MODE,
  diffTrees,
  EMPTY_SHA256,
  EMPTY_TREE,
  EXEC_MODE,
  FILE_MODE,
  INLINE_MAX,
  joinPages,
  LINK_MODE,
  parseTreePage,
  parseTreeRoot,
  treeAt,
  treeProblem,
  type WorkspaceFile,
} from './workspace-tree.ts';

const file = (path: string, content = path, mode: WorkspaceFile['mode'] = FILE_MODE) => ({
  path,
  hash: sha256Hex(content),
  size: Buffer.byteLength(content),
  mode,
});

const many = (n: number, salt = '') =>
  Array.from({ length: n }, (_, i) => file(`src/f${String(i).padStart(5, '0')}.ts`, `${i}${salt}`));

const bytes = (text: string) => Buffer.from(text);

describe('buildTree', () => {
  it('names a tree by its content, whatever order the paths come in', () => {
    const a = buildTree([file('b.txt'), file('a.txt'), file('dir/c.txt')]);
    const b = buildTree([file('dir/c.txt'), file('a.txt'), file('b.txt')]);
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toBe(sha256Hex(a.root.text));
    expect(a.files.map((f) => f.path)).toEqual(['a.txt', 'b.txt', 'dir/c.txt']);
    expect(buildTree([file('a.txt', 'other'), file('b.txt'), file('dir/c.txt')]).hash).not.toBe(
      a.hash,
    );
    // The mode is part of the state: chmod +x is a change.
    expect(
      buildTree([file('a.txt', 'a.txt', EXEC_MODE), file('b.txt'), file('dir/c.txt')]).hash,
    ).not.toBe(a.hash);
  });

  it('keeps a small tree in its root and splits a large one into pages', () => {
    const small = buildTree(many(INLINE_MAX));
    expect(small.pageObjects).toEqual([]);
    expect(JSON.parse(small.root.text).files).toHaveLength(INLINE_MAX);

    const large = buildTree(many(5000));
    expect(large.pageObjects.length).toBeGreaterThan(5);
    const root = parseTreeRoot('sessions/s/ws/trees/x.json', large.hash, bytes(large.root.text));
    expect(root.count).toBe(5000);
    const pages = large.pageObjects.map((p) => parseTreePage('k', p.hash, bytes(p.text)));
    expect(joinPages('k', root, pages)).toEqual(large.files);
  });

  it('changes one page of a large tree when one file changes, is added or goes', () => {
    const before = buildTree(many(5000));
    const pagesOf = (t: ReturnType<typeof buildTree>) => new Set(t.pageObjects.map((p) => p.hash));
    const fresh = (t: ReturnType<typeof buildTree>) =>
      [...pagesOf(t)].filter((h) => !pagesOf(before).has(h));

    const edited = many(5000);
    edited[2500] = file(edited[2500]!.path, 'edited');
    expect(fresh(buildTree(edited))).toHaveLength(1);

    const added = [...many(5000), file('src/f02500.ts.bak')];
    expect(fresh(buildTree(added))).toHaveLength(1);

    const removed = many(5000).filter((_, i) => i !== 1234);
    expect(fresh(buildTree(removed)).length).toBeLessThanOrEqual(1);
  });

  it('refuses paths a restore could not write safely', () => {
    expect(() => buildTree([file('../etc/passwd')])).toThrow(/\.\. part/);
    expect(() => buildTree([file('/abs')])).toThrow(/absolute/);
    expect(() => buildTree([file('a//b')])).toThrow(/empty/);
    expect(() => buildTree([file('a', 'x', LINK_MODE), file('a/b')])).toThrow(/inside "a"/);
    expect(() => buildTree([file('a'), file('a')])).toThrow(/repeated/);
  });
});

describe('diffTrees', () => {
  it('writes new and changed paths and removes the ones that went', () => {
    const from = [file('keep'), file('change', 'v1'), file('go'), file('x', 'x', FILE_MODE)];
    const to = [
      file('keep'),
      file('change', 'v2'),
      file('new/file'),
      file('x', 'x', EXEC_MODE),
      { path: 'empty', hash: EMPTY_SHA256, size: 0, mode: DIR_MODE } as const,
    ];
    const diff = diffTrees(from, to);
    expect(diff.write.map((f) => f.path)).toEqual(['change', 'new/file', 'x', 'empty']);
    expect(diff.remove.map((f) => f.path)).toEqual(['go']);
    expect(diffTrees(to, to)).toEqual({ write: [], remove: [] });
  });
});

describe('treeProblem', () => {
  it('accepts a tree with a folder named like a file prefix', () => {
    expect(treeProblem([file('a-b'), file('a/b'), file('a/c')])).toBeUndefined();
  });

  it('refuses an empty folder with content', () => {
    expect(treeProblem([{ path: 'd', hash: sha256Hex('x'), size: 1, mode: DIR_MODE }])).toMatch(
      /no content/,
    );
  });
});

describe('reading stored tree objects', () => {
  it('refuses a root whose bytes are not what its name says, naming the key', () => {
    const tree = buildTree([file('a.txt')]);
    const key = `sessions/ses_x/ws/trees/${tree.hash}.json`;
    const tampered = bytes(tree.root.text.replace('"a.txt"', '"b.txt"'));
    const error = (() => {
      try {
        parseTreeRoot(key, tree.hash, tampered);
      } catch (e) {
        return e;
      }
    })();
    expect(CorruptBlobError.is(error)).toBe(true);
    expect(error).toMatchObject({ sessionId: 'ses_x', key, reason: 'checksum' });
  });

  it('refuses a root that lists paths a restore would write through', () => {
    const text = JSON.stringify({
      kind: 'root',
      version: 1,
      count: 2,
      bytes: 2,
      files: [file('l', 'x', LINK_MODE), file('l/x', 'x')],
    });
    expect(() => parseTreeRoot('sessions/s/ws/trees/t.json', sha256Hex(text), bytes(text))).toThrow(
      /inside "l"/,
    );
  });
});

describe('treeAt', () => {
  const entry = (seq: number, workspace?: string) =>
    ({
      seq,
      kind: 'user_message',
      text: '',
      inputSeq: 1,
      turnId: 't',
      epoch: 1,
      at: 0,
      ...(workspace ? { workspace } : {}),
    }) as LogEntry;

  it('is the latest tree the log recorded, or the initial one', () => {
    expect(treeAt([], EMPTY_TREE)).toBe(EMPTY_TREE);
    expect(treeAt([entry(1), entry(2)], EMPTY_TREE)).toBe(EMPTY_TREE);
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    expect(treeAt([entry(1, a), entry(2), entry(3, b), entry(4)], EMPTY_TREE)).toBe(b);
    expect(treeAt([entry(1, a), entry(2), entry(3, b)].slice(0, 2), EMPTY_TREE)).toBe(a);
  });
});
