/**
 * Redis keys and blob keys of a session. Redis keys share a `{sessionId}` hash tag so that a
 * script touching several of them runs on one Redis Cluster slot.
 */
export const redisKeys = {
  sessionIndex: 'tern:sessions',
  /** ZSET of one user's sessions (scored by creation), for listing a user's own. */
  ownerIndex: (userId: string) => `tern:sessions:owner:${userId}`,
  meta: (id: string) => `tern:{${id}}:meta`,
  inputs: (id: string) => `tern:{${id}}:inputs`,
  clientIds: (id: string) => `tern:{${id}}:client-ids`,
  segments: (id: string) => `tern:{${id}}:segments`,
  lease: (id: string) => `tern:{${id}}:lease`,
  events: (id: string) => `tern:{${id}}:events`,
  /** Humans' decisions on tool calls waiting for approval (callId → JSON). */
  decisions: (id: string) => `tern:{${id}}:decisions`,
  /** Messages for the running turn, delivered at its next step boundary. */
  steering: (id: string) => `tern:{${id}}:steering`,
  /** The turn id a user asked to cancel; read by whichever worker runs (or will run) it. */
  cancel: (id: string) => `tern:{${id}}:cancel`,
  /**
   * The id of the session's turn job that waits in the queue for provider capacity, so that a
   * cancel can wake it at once instead of when the capacity comes back (capacity-wait.ts).
   */
  capacityWait: (id: string) => `tern:{${id}}:capacity-wait`,
  /** Pub/sub channel that tells workers about cancels at once. */
  cancelChannel: 'tern:cancel',
  /** ZSET of the sessions forked from this one (scored by when), which share its segment blobs. */
  forks: (id: string) => `tern:{${id}}:forks`,
  /**
   * HASH left by a deletion until every blob of the session is gone: it outlives the session
   * while forks still share its segments, and lets an interrupted deletion be finished.
   */
  deleted: (id: string) => `tern:{${id}}:deleted`,
};

const pad = (n: number) => String(n).padStart(10, '0');

export const blobKeys = {
  sessionPrefix: (id: string) => `sessions/${id}/`,
  meta: (id: string) => `sessions/${id}/session.json`,
  segment: (id: string, first: number, last: number, stamp?: SegmentStamp) =>
    `sessions/${id}/segments/${segmentName(first, last, stamp)}.jsonl`,
  segmentsPrefix: (id: string) => `sessions/${id}/segments/`,
  /**
   * A snapshot pack: entries `first..last` folded from many segments into one blob, so a cold
   * load reads a few packs plus a few segments (snapshot-packs.ts).
   */
  snapshot: (id: string, first: number, last: number) =>
    `sessions/${id}/snapshots/${pad(first)}-${pad(last)}.jsonl`,
  snapshotsPrefix: (id: string) => `sessions/${id}/snapshots/`,
  /** The head mirrored from Redis: what survives a Redis loss. */
  manifest: (id: string) => `sessions/${id}/manifest.json`,
  /**
   * Where the session's workspace starts and which sessions' workspace stores it also reads
   * (a fork reads its ancestors'); see workspace-store.ts.
   */
  workspaceBase: (id: string) => `sessions/${id}/ws/base.json`,
  /** Everything of the session's workspace store, kept while forks share it. */
  workspaceStorePrefix: (id: string) => `sessions/${id}/ws/`,
  /** A workspace file's bytes (or a symlink's target), named by their sha256. */
  workspaceBlob: (id: string, sha256: string) => `sessions/${id}/ws/blobs/${sha256}`,
  workspaceBlobsPrefix: (id: string) => `sessions/${id}/ws/blobs/`,
  /** A workspace tree object (a root or a page, workspace-tree.ts), named by its sha256. */
  workspaceTree: (id: string, sha256: string) => `sessions/${id}/ws/trees/${sha256}.json`,
  workspaceTreesPrefix: (id: string) => `sessions/${id}/ws/trees/`,
  /** Before content-addressed workspaces, a session's seed files by path; read once to migrate. */
  legacyWorkspaceFile: (id: string, path: string) => `sessions/${id}/workspace/${path}`,
  legacyWorkspacePrefix: (id: string) => `sessions/${id}/workspace/`,
};

/**
 * Who wrote a segment and what it holds. Part of the name so that two writers never share a key:
 * S3 has no conditional put, and without it a paused worker that wakes up after losing its lease
 * could overwrite a committed segment of the same range with its own (rejected) entries.
 */
export type SegmentStamp = { epoch: number; sha256: string };

/** `<first>-<last>` or, stamped, `<first>-<last>-e<epoch>-<first 12 hex of the sha256>`. */
export const segmentName = (first: number, last: number, stamp?: SegmentStamp) =>
  stamp
    ? `${pad(first)}-${pad(last)}-e${stamp.epoch}-${stamp.sha256.slice(0, 12)}`
    : `${pad(first)}-${pad(last)}`;

export type ParsedSegmentName = {
  name: string;
  first: number;
  last: number;
  /** Absent in unstamped names. */
  epoch?: number;
  sha256Prefix?: string;
};

const segmentNamePattern = /^(\d{10})-(\d{10})(?:-e(\d+)-([0-9a-f]{12}))?$/;

/** Parses a segment list item; a fork's shared item `<owner>/<name>` keeps its owner in `name`. */
export function parseSegmentName(name: string): ParsedSegmentName | undefined {
  const m = segmentNamePattern.exec(name.slice(name.indexOf('/') + 1));
  if (!m?.[1] || !m[2]) return undefined;
  const parsed: ParsedSegmentName = { name, first: Number(m[1]), last: Number(m[2]) };
  if (m[3] !== undefined && m[4] !== undefined) {
    parsed.epoch = Number(m[3]);
    parsed.sha256Prefix = m[4];
  }
  return parsed;
}

export const padSeq = pad;

/**
 * The blob of an item of a session's segment list: `<first>-<last>` is the session's own segment,
 * `<owner>/<first>-<last>` one shared with the session it was forked from (segments are immutable,
 * so a fork references them instead of copying).
 */
export function segmentBlobKey(sessionId: string, item: string): string {
  const slash = item.indexOf('/');
  if (slash === -1) return `sessions/${sessionId}/segments/${item}.jsonl`;
  return `sessions/${item.slice(0, slash)}/segments/${item.slice(slash + 1)}.jsonl`;
}
