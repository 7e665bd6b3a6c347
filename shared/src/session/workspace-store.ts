import { z } from 'zod';
import { TernError } from '../errors/tern-error.ts';
import { sha256Hex } from './blob-checksum.ts';
import type { BlobStore } from './blob-store.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import { mapLimit } from './map-limit.ts';
import { blobKeys } from './session-keys.ts';
import {
  type BuiltTree,
  buildTree,
  byPath,
  DIR_MODE,
  EMPTY_SHA256,
  EMPTY_TREE,
  FILE_MODE,
  joinPages,
  parseTreePage,
  parseTreeRoot,
  sha256Schema,
  treeProblem,
  type WorkspaceFile,
  type WorkspaceMode,
  type WorkspaceTree,
} from './workspace-tree.ts';

/** Store requests in flight at once for one workspace operation. */
const PARALLEL = 16;

/**
 * Where a session's workspace starts (`tree`, the seed, or a fork's source's seed) and whose
 * workspace stores it reads besides its own. Written once, before the session becomes visible.
 *
 * Forks share rather than copy: a fork reads the blobs and trees of its ancestors (its source, the
 * source's source, …) where its own store lacks them, so forking costs one small blob whatever the
 * workspace's size. This is safe against deletion for the same reason shared segments are: a
 * deleted session that still has forks keeps its `ws/` store under its tombstone until its last
 * fork is gone (session-delete.ts).
 */
export const workspaceBaseSchema = z
  .object({
    version: z.literal(1),
    tree: sha256Schema,
    ancestors: z.array(z.string().regex(/^[A-Za-z0-9_]{1,100}$/)).max(10_000),
  })
  .strict();
export type WorkspaceBase = z.infer<typeof workspaceBaseSchema>;

/** A file to put in a new workspace: its content (a symlink's target) and mode. */
export type SeedFile = { path: string; bytes: Uint8Array; mode?: WorkspaceMode };

export async function readWorkspaceBase(blobs: BlobStore, id: string): Promise<WorkspaceBase> {
  const key = blobKeys.workspaceBase(id);
  const bytes = await blobs.get(key);
  if (!bytes) return migrateLegacyWorkspace(blobs, id);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new CorruptBlobError(key, 'malformed', 'not JSON');
  }
  const parsed = workspaceBaseSchema.safeParse(value);
  if (!parsed.success) throw new CorruptBlobError(key, 'malformed', parsed.error.message);
  return parsed.data;
}

/**
 * Stores a new session's workspace (blobs, tree, base) and returns its base. Called before the
 * session is visible, by creation and import.
 */
export async function seedWorkspace(
  blobs: BlobStore,
  id: string,
  files: readonly SeedFile[],
): Promise<WorkspaceBase> {
  const objects = new WorkspaceObjects(blobs, id, []);
  const contents = new Map<string, Uint8Array>();
  const listed: WorkspaceFile[] = files.map((f) => {
    const mode = f.mode ?? FILE_MODE;
    if (mode === DIR_MODE) return { path: f.path, hash: EMPTY_SHA256, size: 0, mode };
    const hash = sha256Hex(f.bytes);
    contents.set(hash, f.bytes);
    return { path: f.path, hash, size: f.bytes.byteLength, mode };
  });
  const problem = treeProblem([...listed].sort(byPath));
  if (problem) {
    throw new TernError({
      code: 'invalid_workspace',
      status: 400,
      message: `the workspace files cannot be stored: ${problem}`,
    });
  }
  const tree = buildTree(listed);
  await mapLimit([...contents], PARALLEL, ([hash, bytes]) => objects.putBlob(hash, bytes));
  await objects.writeTree(tree);
  return storeWorkspaceBase(blobs, id, { version: 1, tree: tree.hash, ancestors: [] });
}

/** A fork's base: its source's start, and the source's stores ahead of the source's ancestors. */
export async function forkWorkspace(
  blobs: BlobStore,
  sourceId: string,
  forkId: string,
): Promise<WorkspaceBase> {
  const source = await readWorkspaceBase(blobs, sourceId);
  return storeWorkspaceBase(blobs, forkId, {
    version: 1,
    tree: source.tree,
    ancestors: [sourceId, ...source.ancestors],
  });
}

/**
 * Writes a session's base: where its workspace starts and whose stores it reads (seeds, forks,
 * and sessions started from a tree another store holds, like a batch's snapshot).
 */
export async function storeWorkspaceBase(
  blobs: BlobStore,
  id: string,
  base: WorkspaceBase,
): Promise<WorkspaceBase> {
  const checked = workspaceBaseSchema.parse(base);
  await blobs.put(blobKeys.workspaceBase(id), JSON.stringify(checked));
  return checked;
}

/**
 * One session's workspace objects (file blobs and tree objects, both named by their sha256): its
 * own store first, then its ancestors' (see `WorkspaceBase`). Everything read is verified against
 * its name; a mismatch is a `CorruptBlobError` naming the session and key, never used.
 */
export class WorkspaceObjects {
  readonly sessionId: string;
  readonly #blobs: BlobStore;
  /** The session itself, then its ancestors, nearest first. */
  readonly #owners: string[];
  /** The owner that answered last: a fork restoring its source's files finds them there first. */
  #lastHit = 0;

  constructor(blobs: BlobStore, sessionId: string, ancestors: readonly string[]) {
    this.#blobs = blobs;
    this.sessionId = sessionId;
    this.#owners = [sessionId, ...ancestors];
  }

  static async open(blobs: BlobStore, id: string) {
    const base = await readWorkspaceBase(blobs, id);
    return { base, objects: new WorkspaceObjects(blobs, id, base.ancestors) };
  }

  /** A file's content, checked against the tree's hash and size. */
  async blob(file: Pick<WorkspaceFile, 'hash' | 'size'>): Promise<Uint8Array> {
    const found = await this.#find((owner) => blobKeys.workspaceBlob(owner, file.hash));
    const actual = sha256Hex(found.bytes);
    if (actual !== file.hash) {
      throw new CorruptBlobError(found.key, 'checksum', `sha256 ${actual} ≠ ${file.hash}`);
    }
    if (found.bytes.byteLength !== file.size) {
      throw new CorruptBlobError(
        found.key,
        'truncated',
        `${found.bytes.byteLength} bytes, the tree says ${file.size}`,
      );
    }
    return found.bytes;
  }

  putBlob(hash: string, bytes: Uint8Array): Promise<void> {
    return this.#blobs.put(blobKeys.workspaceBlob(this.sessionId, hash), bytes);
  }

  /**
   * Reads a tree: its root, then the pages not in `known` (pages of a tree already held, which
   * a worker that has an older tree of the session mostly shares with the newer one).
   */
  async readTree(
    hash: string,
    known: ReadonlyMap<string, readonly WorkspaceFile[]> = new Map(),
  ): Promise<WorkspaceTree> {
    // Sessions that never had a file need not have stored the empty tree.
    if (hash === EMPTY_TREE) return { hash, files: [], pages: new Map() };
    const rootFound = await this.#find((owner) => blobKeys.workspaceTree(owner, hash));
    const root = parseTreeRoot(rootFound.key, hash, rootFound.bytes);
    if (root.files) return { hash, files: root.files, pages: new Map() };
    const refs = root.pages ?? [];
    const pages = await mapLimit(refs, PARALLEL, async (ref) => {
      const held = known.get(ref.hash);
      if (held) return held;
      const found = await this.#find((owner) => blobKeys.workspaceTree(owner, ref.hash));
      return parseTreePage(found.key, ref.hash, found.bytes);
    });
    const files = joinPages(rootFound.key, root, pages);
    return { hash, files, pages: new Map(refs.map((ref, i) => [ref.hash, pages[i]!])) };
  }

  /**
   * Stores a tree: the pages first, then the root that names them, so a stored root never points
   * at a missing page. Pages of `stored` (a tree known to be in the store) are not written again.
   */
  async writeTree(tree: BuiltTree, stored?: WorkspaceTree): Promise<void> {
    if (stored?.hash === tree.hash || tree.hash === EMPTY_TREE) return;
    const fresh = tree.pageObjects.filter((p) => !stored?.pages.has(p.hash));
    await mapLimit(fresh, PARALLEL, (page) =>
      this.#blobs.put(blobKeys.workspaceTree(this.sessionId, page.hash), page.text),
    );
    await this.#blobs.put(blobKeys.workspaceTree(this.sessionId, tree.hash), tree.root.text);
  }

  async #find(keyOf: (owner: string) => string): Promise<{ key: string; bytes: Uint8Array }> {
    const n = this.#owners.length;
    for (let i = 0; i < n; i++) {
      const at = (this.#lastHit + i) % n;
      const key = keyOf(this.#owners[at]!);
      const bytes = await this.#blobs.get(key);
      if (bytes) {
        this.#lastHit = at;
        return { key, bytes };
      }
    }
    const stores = n > 1 ? ` (nor in the stores of ${this.#owners.slice(1).join(', ')})` : '';
    throw new CorruptBlobError(keyOf(this.sessionId), 'missing', `not in the store${stores}`);
  }
}

/** Every path of a tree with its content, in path order, read one at a time (exports stream). */
export async function* treeContents(
  objects: WorkspaceObjects,
  tree: WorkspaceTree,
): AsyncGenerator<{ file: WorkspaceFile; bytes: Uint8Array }> {
  for (const file of tree.files) {
    const bytes = file.mode === DIR_MODE ? new Uint8Array() : await objects.blob(file);
    yield { file, bytes };
  }
}

/**
 * Sessions created before content-addressed workspaces kept their seed files by path. The first
 * read of such a session stores them as its initial tree (idempotent: the same files give the same
 * blobs, tree and base); a session with neither starts empty.
 */
async function migrateLegacyWorkspace(blobs: BlobStore, id: string): Promise<WorkspaceBase> {
  const prefix = blobKeys.legacyWorkspacePrefix(id);
  const keys = await blobs.list(prefix);
  if (keys.length === 0) return { version: 1, tree: EMPTY_TREE, ancestors: [] };
  const files = await mapLimit(keys, PARALLEL, async (key) => {
    const bytes = await blobs.get(key);
    if (!bytes) throw new CorruptBlobError(key, 'missing', 'listed but not readable');
    return { path: key.slice(prefix.length), bytes };
  });
  return seedWorkspace(blobs, id, files);
}
