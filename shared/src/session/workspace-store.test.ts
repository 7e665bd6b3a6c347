import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from './blob-checksum.ts';
import type { BlobStore } from './blob-store.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import { FileBlobStore } from './file-blob-store.ts';
import { blobKeys } from './session-keys.ts';
import {
  forkWorkspace,
  readWorkspaceBase,
  seedWorkspace,
  treeContents,
  WorkspaceObjects,
} from './workspace-store.ts';
import {
  buildTree,
  EMPTY_TREE,
  FILE_MODE,
  LINK_MODE,
  type WorkspaceFile,
} from './workspace-tree.ts';

let dir: string;
let blobs: FileBlobStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tern-ws-store-'));
  blobs = new FileBlobStore(dir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
const newId = () => `ses_wsstore${++n}`;
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

/** The store with every `put` and `get` key recorded. */
function counting(inner: BlobStore): BlobStore & { puts: string[]; gets: string[] } {
  const puts: string[] = [];
  const gets: string[] = [];
  return {
    puts,
    gets,
    put: (key, body) => {
      puts.push(key);
      return inner.put(key, body);
    },
    get: (key) => {
      gets.push(key);
      return inner.get(key);
    },
    list: (prefix, options) => inner.list(prefix, options),
    deletePrefix: (prefix) => inner.deletePrefix(prefix),
    describe: () => inner.describe(),
  };
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('it did not fail');
}

describe('a seeded workspace', () => {
  it('stores each distinct content once and reads back as the same tree', async () => {
    const id = newId();
    const store = counting(blobs);
    const base = await seedWorkspace(store, id, [
      { path: 'README.md', bytes: Buffer.from('hello') },
      { path: 'copy.md', bytes: Buffer.from('hello') },
      { path: 'link', bytes: Buffer.from('README.md'), mode: LINK_MODE },
    ]);
    expect(base).toEqual({ version: 1, tree: base.tree, ancestors: [] });
    expect(store.puts.filter((k) => k.includes('/ws/blobs/')).sort()).toEqual(
      [sha256Hex('README.md'), sha256Hex('hello')].map((h) => blobKeys.workspaceBlob(id, h)).sort(),
    );
    const { objects } = await WorkspaceObjects.open(blobs, id);
    const tree = await objects.readTree(base.tree);
    const files: [string, string, number][] = [];
    for await (const { file, bytes } of treeContents(objects, tree)) {
      files.push([file.path, text(bytes), file.mode]);
    }
    expect(files).toEqual([
      ['README.md', 'hello', FILE_MODE],
      ['copy.md', 'hello', FILE_MODE],
      ['link', 'README.md', LINK_MODE],
    ]);
  });

  it('refuses paths that cannot all exist, with a 400', async () => {
    const error = await errorOf(
      seedWorkspace(blobs, newId(), [
        { path: 'a', bytes: Buffer.from('file') },
        { path: 'a/b', bytes: Buffer.from('under the file') },
      ]),
    );
    expect(error).toMatchObject({ code: 'invalid_workspace', status: 400 });
  });
});

describe('reading workspace objects', () => {
  it('reports a blob whose content does not match its hash, with session and key', async () => {
    const id = newId();
    const base = await seedWorkspace(blobs, id, [{ path: 'a.txt', bytes: Buffer.from('alpha') }]);
    const key = blobKeys.workspaceBlob(id, sha256Hex('alpha'));
    await blobs.put(key, 'alphA');
    const { objects } = await WorkspaceObjects.open(blobs, id);
    const [file] = (await objects.readTree(base.tree)).files;
    const error = await errorOf(objects.blob(file!));
    expect(CorruptBlobError.is(error)).toBe(true);
    expect(error).toMatchObject({ sessionId: id, key, reason: 'checksum' });
  });

  it('reports a missing blob or tree under the session’s own key', async () => {
    const id = newId();
    const base = await seedWorkspace(blobs, id, [{ path: 'a.txt', bytes: Buffer.from('gone') }]);
    await blobs.deletePrefix(blobKeys.workspaceBlobsPrefix(id));
    const { objects } = await WorkspaceObjects.open(blobs, id);
    const [file] = (await objects.readTree(base.tree)).files;
    expect(await errorOf(objects.blob(file!))).toMatchObject({
      code: 'corrupt_blob',
      reason: 'missing',
      key: blobKeys.workspaceBlob(id, sha256Hex('gone')),
    });
    expect(await errorOf(objects.readTree('f'.repeat(64)))).toMatchObject({
      reason: 'missing',
      key: blobKeys.workspaceTree(id, 'f'.repeat(64)),
    });
  });

  it('lets a fork read its ancestors’ trees and blobs without copying them', async () => {
    const source = newId();
    const seeded = await seedWorkspace(blobs, source, [
      { path: 'a.txt', bytes: Buffer.from('from the source') },
    ]);
    const child = newId();
    const grandchild = newId();
    const store = counting(blobs);
    expect(await forkWorkspace(store, source, child)).toEqual({
      version: 1,
      tree: seeded.tree,
      ancestors: [source],
    });
    expect(await forkWorkspace(store, child, grandchild)).toMatchObject({
      ancestors: [child, source],
    });
    expect(store.puts).toEqual([blobKeys.workspaceBase(child), blobKeys.workspaceBase(grandchild)]);
    const { base, objects } = await WorkspaceObjects.open(blobs, grandchild);
    const [file] = (await objects.readTree(base.tree)).files;
    expect(text(await objects.blob(file!))).toBe('from the source');
  });
});

describe('writing trees', () => {
  it('writes only the pages a stored tree does not have, then the root', async () => {
    const id = newId();
    const files: WorkspaceFile[] = Array.from({ length: 3000 }, (_, i) => ({
      path: `src/f${String(i).padStart(4, '0')}.ts`,
      hash: sha256Hex(String(i)),
      size: String(i).length,
      mode: FILE_MODE,
    }));
    const objects = new WorkspaceObjects(blobs, id, []);
    const first = buildTree(files);
    await objects.writeTree(first);
    const stored = await objects.readTree(first.hash);
    expect(stored.files).toEqual(first.files);

    const store = counting(blobs);
    const edited = [...files];
    edited[1500] = { ...edited[1500]!, hash: sha256Hex('edited'), size: 6 };
    const second = buildTree(edited);
    await new WorkspaceObjects(store, id, []).writeTree(second, stored);
    expect(store.puts).toHaveLength(2);
    expect(store.puts.at(-1)).toBe(blobKeys.workspaceTree(id, second.hash));
    // A worker holding the first tree reads the root and one page of the second.
    const reading = counting(blobs);
    const read = await new WorkspaceObjects(reading, id, []).readTree(second.hash, stored.pages);
    expect(read.files).toEqual(second.files);
    expect(reading.gets).toHaveLength(2);
  });
});

describe('sessions from before content-addressed workspaces', () => {
  it('turns their seed files into the initial tree on first read', async () => {
    const id = newId();
    await blobs.put(blobKeys.legacyWorkspaceFile(id, 'README.md'), 'old layout');
    await blobs.put(blobKeys.legacyWorkspaceFile(id, 'src/x.py'), 'x = 1');
    const base = await readWorkspaceBase(blobs, id);
    expect(await blobs.get(blobKeys.workspaceBase(id))).toBeDefined();
    expect(await readWorkspaceBase(blobs, id)).toEqual(base);
    const { objects } = await WorkspaceObjects.open(blobs, id);
    const tree = await objects.readTree(base.tree);
    expect(tree.files.map((f) => f.path)).toEqual(['README.md', 'src/x.py']);
    expect(text(await objects.blob(tree.files[0]!))).toBe('old layout');
  });

  it('starts a session with neither empty, writing nothing', async () => {
    const id = newId();
    const { base, objects } = await WorkspaceObjects.open(blobs, id);
    expect(base).toEqual({ version: 1, tree: EMPTY_TREE, ancestors: [] });
    expect((await objects.readTree(base.tree)).files).toEqual([]);
    expect(await blobs.list(blobKeys.sessionPrefix(id))).toEqual([]);
  });
});
