import type { ChangedFile } from '@tern/shared/batch/batch-result';
import type { BlobStore } from '@tern/shared/session/blob-store';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { mapLimit } from '@tern/shared/session/map-limit';
import { WorkspaceObjects } from '@tern/shared/session/workspace-store';
import {
  DIR_MODE,
  diffTrees,
  LINK_MODE,
  treeAt,
  type WorkspaceFile,
  type WorkspaceTree,
} from '@tern/shared/session/workspace-tree';

/** Files read at once. */
const PARALLEL = 8;

/**
 * What a target session changed in its workspace, from the snapshot tree it started with to the
 * tree its log ends with. Paths only at first: an agent that ran `npm install` changed thousands
 * of files nobody reads, so contents are read for the paths the caller keeps (`readChanged`).
 */
export type WorkspaceDiff = {
  /** The session's objects: its own store, then the batch's snapshot store. */
  objects: WorkspaceObjects;
  snapshot: WorkspaceTree;
  final: WorkspaceTree;
  /** Files and links written or changed, as the final tree lists them. */
  changed: WorkspaceFile[];
  /** Paths of the snapshot the session removed. */
  removed: string[];
};

export async function workspaceDiff(
  blobs: BlobStore,
  sessionId: string,
  entries: readonly LogEntry[],
): Promise<WorkspaceDiff> {
  const { base, objects } = await WorkspaceObjects.open(blobs, sessionId);
  const snapshot = await objects.readTree(base.tree);
  const finalHash = treeAt(entries, base.tree);
  const final =
    finalHash === base.tree ? snapshot : await objects.readTree(finalHash, snapshot.pages);
  const diff = diffTrees(snapshot.files, final.files);
  return {
    objects,
    snapshot,
    final,
    changed: diff.write.filter((f) => f.mode !== DIR_MODE),
    removed: diff.remove.filter((f) => f.mode !== DIR_MODE).map((f) => f.path),
  };
}

export type ReadChanged = {
  files: ChangedFile[];
  /** Kept paths whose content is not text (binary files) or is a symlink: left out, with why. */
  unreadable: { path: string; reason: string }[];
};

/** The content of these changed paths, with what the snapshot held there (null: new file). */
export async function readChanged(
  diff: WorkspaceDiff,
  paths: readonly string[],
): Promise<ReadChanged> {
  const wanted = new Set(paths);
  const before = new Map(diff.snapshot.files.map((f) => [f.path, f]));
  const unreadable: ReadChanged['unreadable'] = [];
  const read = await mapLimit(
    diff.changed.filter((f) => wanted.has(f.path)),
    PARALLEL,
    async (file): Promise<ChangedFile | undefined> => {
      if (file.mode === LINK_MODE) {
        unreadable.push({ path: file.path, reason: 'a symbolic link' });
        return undefined;
      }
      const content = utf8(await diff.objects.blob(file));
      const old = before.get(file.path);
      const original =
        old && old.mode !== LINK_MODE && old.mode !== DIR_MODE
          ? utf8(await diff.objects.blob(old))
          : null;
      if (content === undefined || (old && original === undefined)) {
        unreadable.push({ path: file.path, reason: 'not UTF-8 text' });
        return undefined;
      }
      return { path: file.path, content, original: original ?? null };
    },
  );
  return {
    files: read.filter((f): f is ChangedFile => f !== undefined),
    unreadable: unreadable.sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Uint8Array): string | undefined {
  try {
    const text = decoder.decode(bytes);
    return text.includes('\0') ? undefined : text;
  } catch {
    return undefined;
  }
}
