import { z } from 'zod';
import { sha256Hex } from './blob-checksum.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import type { LogEntry } from './log-entry.ts';

/**
 * A session's workspace as stored: a **tree** lists every path with the sha256 of its content, its
 * size and its mode, and is itself stored under the sha256 of its JSON, so a tree hash names one
 * exact state of the workspace. The log records, on the last entry of each step that changed the
 * workspace, the hash of the tree the step left (`workspace` on the entry).
 *
 * Modes follow git: regular files are `0o100644` or `0o100755` (only the owner's execute bit is
 * kept), symlinks `0o120000` (their content is the link's target, never followed), and empty
 * folders `0o040000` (a folder with anything in it is implied by its paths).
 */
export const FILE_MODE = 0o100644;
export const EXEC_MODE = 0o100755;
export const LINK_MODE = 0o120000;
export const DIR_MODE = 0o040000;

export const workspaceModeSchema = z.union([
  z.literal(FILE_MODE),
  z.literal(EXEC_MODE),
  z.literal(LINK_MODE),
  z.literal(DIR_MODE),
]);
export type WorkspaceMode = z.infer<typeof workspaceModeSchema>;

export const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lowercase hex');

/** The content hash of an empty folder entry (it has no blob). */
export const EMPTY_SHA256 = sha256Hex('');

export const workspaceFileSchema = z
  .object({
    path: z.string().min(1).max(4096),
    hash: sha256Schema,
    size: z.number().int().nonnegative(),
    mode: workspaceModeSchema,
  })
  .strict();
export type WorkspaceFile = z.infer<typeof workspaceFileSchema>;

/**
 * Trees of up to this many paths are one blob. Larger ones are split into pages so that a step
 * changing one file of a big workspace writes one page and the root, not the whole listing. A
 * step's cost is about the root (a line per page) plus a page (a line per path), so pages of 64
 * paths keep both near 10 KB for a 5,000-file workspace and under 40 KB for 20,000.
 */
export const INLINE_MAX = 64;
/** A page ends after a path whose hash has these bits clear: about 64 paths per page. */
const PAGE_MASK = 0x3f;
/** A page never grows past this many paths, whatever the hashes. */
export const PAGE_MAX = 256;

const pageRefSchema = z.object({ hash: sha256Schema, count: z.number().int().positive() }).strict();

const treeRootSchema = z
  .object({
    kind: z.literal('root'),
    version: z.literal(1),
    count: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
    /** The paths themselves (small trees), or the pages holding them, in path order. */
    files: z.array(workspaceFileSchema).optional(),
    pages: z.array(pageRefSchema).optional(),
  })
  .strict()
  .refine((r) => (r.files === undefined) !== (r.pages === undefined), {
    message: 'a root holds either files or pages',
  });
export type TreeRoot = z.infer<typeof treeRootSchema>;

const treePageSchema = z
  .object({ kind: z.literal('page'), files: z.array(workspaceFileSchema).min(1) })
  .strict();

/** A tree object as stored: its JSON and the sha256 of that JSON, which is its name. */
export type TreeObject = { hash: string; text: string };

/** A tree in memory: its hash (the root's), its paths in order, and its pages by hash. */
export type WorkspaceTree = {
  hash: string;
  files: readonly WorkspaceFile[];
  pages: ReadonlyMap<string, readonly WorkspaceFile[]>;
};

/** A tree ready to store: the root object and every page object. */
export type BuiltTree = WorkspaceTree & { root: TreeObject; pageObjects: TreeObject[] };

/** Path order of trees (UTF-16 code units, as `<` compares strings). */
export const byPath = (a: { path: string }, b: { path: string }) =>
  a.path < b.path ? -1 : a.path > b.path ? 1 : 0;

/**
 * The tree of a set of paths. Deterministic: the same paths, hashes and modes always give the same
 * hash, whichever worker builds it. Pages end at paths chosen by the path's own hash, so adding or
 * removing a path changes only the page it falls in.
 */
export function buildTree(input: readonly WorkspaceFile[]): BuiltTree {
  const files = [...input].map(canonicalFile).sort(byPath);
  const problem = treeProblem(files);
  if (problem) throw new Error(`not a valid workspace tree: ${problem}`);
  const count = files.length;
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  if (count <= INLINE_MAX) {
    const root = object({ kind: 'root', version: 1, count, bytes, files });
    return { hash: root.hash, files, pages: new Map(), root, pageObjects: [] };
  }
  const pages = new Map<string, WorkspaceFile[]>();
  const pageObjects: TreeObject[] = [];
  const refs: { hash: string; count: number }[] = [];
  let current: WorkspaceFile[] = [];
  const flush = () => {
    if (current.length === 0) return;
    const page = object({ kind: 'page', files: current });
    pages.set(page.hash, current);
    pageObjects.push(page);
    refs.push({ hash: page.hash, count: current.length });
    current = [];
  };
  for (const file of files) {
    current.push(file);
    if (current.length >= PAGE_MAX || (fnv1a(file.path) & PAGE_MASK) === 0) flush();
  }
  flush();
  const root = object({ kind: 'root', version: 1, count, bytes, pages: refs });
  return { hash: root.hash, files, pages, root, pageObjects };
}

/** The hash of the empty workspace. */
export const EMPTY_TREE: string = buildTree([]).hash;

/** What turns the `from` tree into the `to` tree: paths to (re)write and paths to remove. */
export type TreeDiff = { write: WorkspaceFile[]; remove: WorkspaceFile[] };

export function diffTrees(from: readonly WorkspaceFile[], to: readonly WorkspaceFile[]): TreeDiff {
  const before = new Map(from.map((f) => [f.path, f]));
  const after = new Set(to.map((f) => f.path));
  const write = to.filter((f) => {
    const old = before.get(f.path);
    return !old || old.hash !== f.hash || old.mode !== f.mode;
  });
  const remove = from.filter((f) => !after.has(f.path));
  return { write, remove };
}

/**
 * Why these paths cannot be a tree, or `undefined`. Trees come back from the store and from
 * imports, so nothing is assumed: sorted unique paths, relative, no `.`/`..`/empty parts, and no
 * entry inside another (a file or symlink `a` with `a/b` would have the restore write through it).
 */
export function treeProblem(files: readonly WorkspaceFile[]): string | undefined {
  const paths = new Set<string>();
  let previous = '';
  for (const file of files) {
    const bad = pathProblem(file.path);
    if (bad) return `${JSON.stringify(file.path)}: ${bad}`;
    if (paths.size > 0 && !(previous < file.path)) {
      return `${JSON.stringify(file.path)} is out of order or repeated`;
    }
    if (file.mode === DIR_MODE && (file.size !== 0 || file.hash !== EMPTY_SHA256)) {
      return `${JSON.stringify(file.path)}: an empty folder has no content`;
    }
    paths.add(file.path);
    previous = file.path;
  }
  for (const path of paths) {
    for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
      if (paths.has(path.slice(0, i))) {
        return `${JSON.stringify(path)} is inside ${JSON.stringify(path.slice(0, i))}`;
      }
    }
  }
  return undefined;
}

/** Why a path cannot be in a workspace tree, or `undefined`. */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0 || path.length > 4096) return 'empty or too long';
  if (path.startsWith('/')) return 'absolute';
  if (path.includes('\0')) return 'contains NUL';
  if (path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    return 'has an empty, . or .. part';
  }
  return undefined;
}

/** Reads a stored root, checking it is the object its hash names; throws `CorruptBlobError`. */
export function parseTreeRoot(key: string, hash: string, bytes: Uint8Array): TreeRoot {
  const value = verifiedJson(key, hash, bytes);
  const parsed = treeRootSchema.safeParse(value);
  if (!parsed.success) throw new CorruptBlobError(key, 'malformed', parsed.error.message);
  const root = parsed.data;
  if (root.files) {
    const problem = treeProblem(root.files);
    if (problem) throw new CorruptBlobError(key, 'malformed', problem);
    if (root.files.length !== root.count) {
      throw new CorruptBlobError(key, 'malformed', 'count does not match its files');
    }
  } else if (root.pages?.reduce((n, p) => n + p.count, 0) !== root.count) {
    throw new CorruptBlobError(key, 'malformed', 'count does not match its pages');
  }
  return root;
}

/** Reads a stored page, checking it is the object its hash names; throws `CorruptBlobError`. */
export function parseTreePage(key: string, hash: string, bytes: Uint8Array): WorkspaceFile[] {
  const value = verifiedJson(key, hash, bytes);
  const parsed = treePageSchema.safeParse(value);
  if (!parsed.success) throw new CorruptBlobError(key, 'malformed', parsed.error.message);
  return parsed.data.files;
}

/**
 * The paths of a paged root once its pages are read; checks the whole listing (order across
 * pages, no entry inside another) and the counts the root recorded.
 */
export function joinPages(
  key: string,
  root: TreeRoot,
  pages: readonly (readonly WorkspaceFile[])[],
): WorkspaceFile[] {
  const refs = root.pages ?? [];
  const files: WorkspaceFile[] = [];
  refs.forEach((ref, i) => {
    const page = pages[i] ?? [];
    if (page.length !== ref.count) {
      throw new CorruptBlobError(key, 'malformed', `page ${ref.hash} has ${page.length} paths`);
    }
    files.push(...page);
  });
  const problem = treeProblem(files);
  if (problem) throw new CorruptBlobError(key, 'malformed', problem);
  return files;
}

/**
 * The tree the workspace was in after the last of these entries: the latest `workspace` the log
 * recorded, or the session's initial tree when no step changed it yet.
 */
export function treeAt(entries: readonly LogEntry[], initial: string): string {
  for (let i = entries.length - 1; i >= 0; i--) {
    const tree = entries[i]?.workspace;
    if (tree) return tree;
  }
  return initial;
}

function verifiedJson(key: string, hash: string, bytes: Uint8Array): unknown {
  const actual = sha256Hex(bytes);
  if (actual !== hash) throw new CorruptBlobError(key, 'checksum', `sha256 ${actual} ≠ ${hash}`);
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new CorruptBlobError(key, 'malformed', 'not JSON');
  }
}

/** Fixed key order, so equal trees serialise to equal bytes. */
function canonicalFile(f: WorkspaceFile): WorkspaceFile {
  return { path: f.path, hash: f.hash, size: f.size, mode: f.mode };
}

function object(value: unknown): TreeObject {
  const text = JSON.stringify(value);
  return { hash: sha256Hex(text), text };
}

/** 32-bit FNV-1a over UTF-16 code units: cheap and stable, only used to place page ends. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
