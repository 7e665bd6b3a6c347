import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogEntry } from '@tern/shared/session/log-entry';
import type { SessionStore } from '@tern/shared/session/session-store';
import { applyDiff } from '@tern/shared/session/workspace-apply';
import { LocalBlobCache } from '@tern/shared/session/workspace-blob-cache';
import {
  type WorkspaceLimits,
  WorkspaceTooLargeError,
} from '@tern/shared/session/workspace-limit-error';
import { type LocalFile, scanFolder, withoutStat } from '@tern/shared/session/workspace-scan';
import { type WorkspaceBase, WorkspaceObjects } from '@tern/shared/session/workspace-store';
import {
  buildTree,
  diffTrees,
  treeAt,
  type WorkspaceFile,
  type WorkspaceTree,
} from '@tern/shared/session/workspace-tree';
import type { AgentTool } from '../agent/agent-types.ts';
import { markOwned, removeAbandoned } from '../owned-folders.ts';

/** Sessions whose folder this process remembers; one evicted is rescanned when it comes back. */
const MAX_SESSIONS = 256;

/** Built-in tools that never change the workspace: running them needs no snapshot after. */
const READ_ONLY_TOOLS: ReadonlySet<string> = new Set([
  'read_file',
  'list_files',
  'glob',
  'grep',
  'propose_tool',
]);

/** What one snapshot did. `tree` is the new tree's hash, or undefined when nothing changed. */
export type WorkspaceSnapshot = {
  tree: string | undefined;
  /** Blobs stored by this snapshot (new content only). */
  uploaded: number;
  /** Paths read and hashed (the rest matched their size, times and inode). */
  hashed: number;
  /** Paths left out of the tree (see `scanFolder`). */
  skipped: string[];
};

/** A session's workspace on this worker, opened for one input. */
export type Workspace = {
  dir: string;
  /** Tells the cache a tool that may change files is about to run. */
  touch(): void;
  /**
   * When a tool ran since the last snapshot: stores the new blobs and the tree, so that a commit
   * can name it. Throws `WorkspaceTooLargeError` past the limits (nothing is stored then).
   */
  snapshot(): Promise<WorkspaceSnapshot>;
};

type Space = {
  sessionId: string;
  dir: string;
  base?: WorkspaceBase;
  objects?: WorkspaceObjects;
  /** The tree the folder holds, when known. */
  tree?: WorkspaceTree;
  /** The folder's paths with what `lstat` said when they were last seen (see `scanFolder`). */
  folder?: Map<string, LocalFile>;
  /** A tool may have changed the folder since `tree` was recorded, or a restore failed. */
  touched: boolean;
  /**
   * Blobs known to be in the session's stores: those of every tree the folder held (restored from
   * the store, or stored by a snapshot) and those this process uploaded.
   */
  stored: Set<string>;
  queue: Promise<unknown>;
};

/**
 * Each worker's local copies of session workspaces. A session's folder is brought to the tree of
 * its last committed step when an input starts (`open`): nothing is done when the folder holds
 * that tree already; otherwise only the difference from what it holds is applied, with blobs from
 * the host's blob cache or, failing that, downloaded and verified. After tools ran, `snapshot`
 * finds what changed, uploads only new blobs and stores the tree for the next commit to name.
 *
 * Every process keeps its folders under a folder of its own: two workers of one host never share
 * a session's folder, so one worker's view of a folder cannot go stale behind its back, and a
 * paused worker that lost its lease cannot write into the folder of the worker that took over.
 * Folders of processes that died on this host are removed on start.
 */
export class WorkspaceCache {
  readonly #root: string;
  readonly #instance: string;
  readonly #blobCache: LocalBlobCache;
  readonly #spaces = new Map<string, Space>();
  #claimed: Promise<void> | undefined;

  constructor(root: string) {
    this.#root = root;
    this.#instance = join(root, `w-${process.pid}-${randomBytes(4).toString('hex')}`);
    this.#blobCache = new LocalBlobCache(join(root, 'blobs'));
  }

  pathFor(sessionId: string): string {
    return join(this.#instance, sessionId);
  }

  /** Brings the session's folder to the workspace its log ends with. */
  async open(
    store: Pick<SessionStore, 'blobs'>,
    sessionId: string,
    history: readonly LogEntry[],
    limits: WorkspaceLimits,
  ): Promise<Workspace> {
    await this.#claim();
    const space = this.#space(sessionId);
    await this.#serial(space, () => this.#restore(store, space, history, limits));
    return {
      dir: space.dir,
      touch: () => {
        space.touched = true;
      },
      snapshot: () => this.#serial(space, () => this.#snapshot(space, limits)),
    };
  }

  async #restore(
    store: Pick<SessionStore, 'blobs'>,
    space: Space,
    history: readonly LogEntry[],
    limits: WorkspaceLimits,
  ): Promise<void> {
    if (!space.objects || !space.base) {
      const opened = await WorkspaceObjects.open(store.blobs, space.sessionId);
      space.base = opened.base;
      space.objects = opened.objects;
    }
    const objects = space.objects;
    const target = treeAt(history, space.base.tree);
    if (!space.touched && space.tree?.hash === target && space.folder) return;
    const wanted = await objects.readTree(target, space.tree?.pages);
    const folder =
      space.touched || !space.folder ? await this.#rescan(space, limits) : space.folder;
    // Until the folder is known to hold `wanted`, a failure leaves it to be rescanned.
    space.touched = true;
    const diff = diffTrees([...folder.values()].map(withoutStat), wanted.files);
    const written = await applyDiff(space.dir, diff, {
      fetch: (file) => this.#fetch(objects, file),
    });
    const next = new Map(folder);
    for (const file of diff.remove) next.delete(file.path);
    for (const record of written) next.set(record.path, record);
    space.folder = next;
    space.tree = wanted;
    for (const file of wanted.files) space.stored.add(file.hash);
    space.touched = false;
  }

  /** What the folder holds now; a folder past the limits is emptied rather than read through. */
  async #rescan(space: Space, limits: WorkspaceLimits): Promise<Map<string, LocalFile>> {
    await mkdir(space.dir, { recursive: true });
    try {
      return (await scanFolder(space.dir, space.folder, { sessionId: space.sessionId, limits }))
        .files;
    } catch (error) {
      if (!WorkspaceTooLargeError.is(error)) throw error;
      await rm(space.dir, { recursive: true, force: true });
      await mkdir(space.dir, { recursive: true });
      return new Map();
    }
  }

  async #snapshot(space: Space, limits: WorkspaceLimits): Promise<WorkspaceSnapshot> {
    const { objects, tree: previous } = space;
    if (!objects || !previous) throw new Error(`workspace of ${space.sessionId} was not restored`);
    if (!space.touched) return { tree: undefined, uploaded: 0, hashed: 0, skipped: [] };
    // Content the session's stores have (see `stored`) is not uploaded again.
    const puts = new Map<string, Promise<void>>();
    const upload = (file: WorkspaceFile, bytes: Uint8Array): Promise<void> => {
      if (space.stored.has(file.hash)) return Promise.resolve();
      let put = puts.get(file.hash);
      if (!put) {
        put = objects.putBlob(file.hash, bytes).then(async () => {
          space.stored.add(file.hash);
          await this.#blobCache.put(file.hash, bytes);
        });
        puts.set(file.hash, put);
      }
      return put;
    };
    const scanned = await scanFolder(space.dir, space.folder, {
      sessionId: space.sessionId,
      limits,
      onHashed: upload,
    });
    const tree = buildTree([...scanned.files.values()].map(withoutStat));
    await objects.writeTree(tree, previous);
    space.folder = scanned.files;
    space.tree = tree;
    space.touched = false;
    return {
      tree: tree.hash === previous.hash ? undefined : tree.hash,
      uploaded: puts.size,
      hashed: scanned.hashed,
      skipped: scanned.skipped,
    };
  }

  async #fetch(objects: WorkspaceObjects, file: WorkspaceFile): Promise<Uint8Array> {
    const cached = await this.#blobCache.get(file.hash);
    if (cached && cached.byteLength === file.size) return cached;
    const bytes = await objects.blob(file);
    await this.#blobCache.put(file.hash, bytes);
    return bytes;
  }

  /** Runs a session's workspace operations one at a time. */
  #serial<T>(space: Space, task: () => Promise<T>): Promise<T> {
    const run = space.queue.then(task, task);
    space.queue = run.catch(() => {});
    return run;
  }

  #space(sessionId: string): Space {
    let space = this.#spaces.get(sessionId);
    if (space) {
      this.#spaces.delete(sessionId);
    } else {
      space = {
        sessionId,
        dir: this.pathFor(sessionId),
        touched: false,
        stored: new Set(),
        queue: Promise.resolve(),
      };
    }
    this.#spaces.set(sessionId, space);
    // Forgetting a session only costs a rescan of its folder next time.
    for (const old of this.#spaces.keys()) {
      if (this.#spaces.size <= MAX_SESSIONS) break;
      this.#spaces.delete(old);
    }
    return space;
  }

  #claim(): Promise<void> {
    this.#claimed ??= (async () => {
      await mkdir(this.#instance, { recursive: true });
      await markOwned(this.#instance);
      // Folders of this host's worker processes that are gone: nothing will read them again.
      void removeAbandoned(this.#root, 'w-', this.#instance).catch(() => {});
    })();
    return this.#claimed;
  }
}

/**
 * The tools with every one that may change files telling the workspace first, so the commit after
 * them snapshots it (read-only built-ins do not; anything else, proposed tools included, does).
 */
export function trackWorkspaceWrites(
  tools: ReadonlyMap<string, AgentTool>,
  workspace: Pick<Workspace, 'touch'>,
): Map<string, AgentTool> {
  return new Map(
    [...tools].map(([name, tool]): [string, AgentTool] => [
      name,
      READ_ONLY_TOOLS.has(name)
        ? tool
        : {
            ...tool,
            execute: (args, context) => {
              workspace.touch();
              return tool.execute(args, context);
            },
          },
    ]),
  );
}
