import { scripts } from '../redis/lua-script.ts';
import type { LogEntry } from './log-entry.ts';
import { decodeSegment, encodeSegment } from './segment-codec.ts';
import {
  blobKeys,
  parseSegmentName,
  redisKeys,
  segmentBlobKey,
  segmentName,
} from './session-keys.ts';
import { type SessionMeta, SessionStore } from './session-store.ts';
import { forkWorkspace } from './workspace-store.ts';

export type ForkOptions = {
  /** The last entry the fork keeps; the source's last seq when omitted. */
  atSeq?: number | undefined;
  title?: string | undefined;
  /** Who owns the fork (the user forking); the source's owner when omitted. */
  owner?: string | undefined;
  now?: number;
};

export type ForkResult =
  | { kind: 'forked'; meta: SessionMeta }
  | { kind: 'not_found' }
  | { kind: 'seq_out_of_range'; lastSeq: number };

type SegmentRef = { item: string; first: number; last: number };

/**
 * Forks a session at `atSeq`: a new idle session whose log is the source's entries `1..atSeq`.
 *
 * Segments are immutable, so the fork's segment list references the source's segment blobs (as
 * `<owner>/<first>-<last>` items, see `segmentBlobKey`) and only the segment that straddles
 * `atSeq` is rewritten, its first part becoming the fork's own first segment. The workspace is
 * shared the same way: trees and file blobs are immutable and named by their hash, so the fork
 * reads its source's (workspace-store.ts) and starts from the tree the log records at `atSeq`.
 * Forking costs two small blob writes at most, whatever the log's or the workspace's size.
 *
 * Sharing is safe against deletion because the fork is registered in the source's `forks` set
 * (atomically with a check that the source still exists) before the fork becomes visible: a
 * deleted source keeps its segments and workspace store, under a tombstone, until its last fork is
 * deleted. A fork of a fork references blobs of both; the chain of registrations keeps every
 * ancestor's alive.
 */
export async function forkSession(
  store: SessionStore,
  sourceId: string,
  options: ForkOptions = {},
): Promise<ForkResult> {
  const source = await store.meta(sourceId);
  if (!source) return { kind: 'not_found' };
  const items = await store.redis.lrange(redisKeys.segments(sourceId), 0, -1);
  const refs = items.map((item) => parseItem(sourceId, item));
  const lastSeq = refs.at(-1)?.last ?? 0;
  const atSeq = options.atSeq ?? lastSeq;
  if (atSeq > lastSeq) return { kind: 'seq_out_of_range', lastSeq };

  const id = SessionStore.newSessionId();
  const now = options.now ?? Date.now();
  let prefix: { kept: string[]; inputSeq: number };
  try {
    prefix = await copyPrefix(store, sourceId, id, refs, atSeq);
  } catch (error) {
    // A source deleted since its head was read loses its blobs; that is a 404, not a failure.
    if (await store.meta(sourceId)) throw error;
    await store.blobs.deletePrefix(blobKeys.sessionPrefix(id));
    return { kind: 'not_found' };
  }
  const { kept, inputSeq } = prefix;

  const meta: SessionMeta = {
    id,
    owner: options.owner ?? source.owner,
    title: options.title ?? source.title,
    model: source.model,
    systemPrompt: source.systemPrompt,
    doubleTexting: source.doubleTexting,
    sim: source.sim,
    approvals: source.approvals,
    hooks: source.hooks,
    createdAt: now,
    updatedAt: now,
    status: 'idle',
    lastSeq: atSeq,
    inputSeq,
    doneInputSeq: inputSeq,
    startedInputSeq: inputSeq,
    // Not 0: the shared entries carry the source's epochs, and epochs only grow along a log.
    epoch: source.epoch,
    forkedFrom: { sessionId: sourceId, seq: atSeq },
  };
  await forkWorkspace(store.blobs, sourceId, id);
  await store.blobs.put(blobKeys.meta(id), JSON.stringify(meta));

  const registered = await scripts.registerFork.run(
    store.redis,
    [redisKeys.meta(sourceId), redisKeys.forks(sourceId)],
    [id, now],
  );
  if (registered !== 1) {
    // The source was deleted meanwhile: nothing references the fork's blobs yet.
    await store.blobs.deletePrefix(blobKeys.sessionPrefix(id));
    return { kind: 'not_found' };
  }
  const { forkedFrom: _, ...fields } = meta;
  const tx = store.redis
    .multi()
    .hset(redisKeys.meta(id), { ...fields, forkOf: sourceId, forkSeq: atSeq });
  if (kept.length > 0) tx.rpush(redisKeys.segments(id), ...kept);
  if (meta.owner) tx.zadd(redisKeys.ownerIndex(meta.owner), now, id);
  await tx.zadd(redisKeys.sessionIndex, now, id).exec();
  await mirrorHead(store, id);
  return { kind: 'forked', meta };
}

/**
 * The fork's segment list: references to the source's whole segments up to `atSeq`, and the
 * fork's own copy of the first part of the segment that straddles it. Also finds the input seq.
 */
async function copyPrefix(
  store: SessionStore,
  sourceId: string,
  id: string,
  refs: SegmentRef[],
  atSeq: number,
): Promise<{ kept: string[]; inputSeq: number }> {
  const kept: string[] = [];
  let straddling: LogEntry[] = [];
  for (const ref of refs) {
    if (ref.first > atSeq) break;
    if (ref.last <= atSeq) {
      kept.push(ref.item);
      continue;
    }
    straddling = (await readSegment(store, sourceId, ref.item)).filter((e) => e.seq <= atSeq);
    const first = straddling[0]?.seq;
    if (first !== undefined) {
      await store.blobs.put(blobKeys.segment(id, first, atSeq), encodeSegment(straddling));
      kept.push(segmentName(first, atSeq));
    }
    break;
  }
  return { kept, inputSeq: await lastInputSeq(store, sourceId, refs, atSeq, straddling) };
}

/**
 * Writes the new session's manifest now rather than in the background, so no write of it is still
 * in flight when the call returns (a deletion right after would race with it). A failure does not
 * undo the session, which is complete in Redis; its next commit mirrors it again.
 */
export async function mirrorHead(store: SessionStore, id: string): Promise<void> {
  await store.mirror.sync(id).catch(() => {});
}

/** A source's segment list item as the fork stores it: always with its owner. */
function parseItem(sourceId: string, item: string): SegmentRef {
  const parsed = parseSegmentName(item);
  if (!parsed) throw new Error(`session ${sourceId}: segment list item ${item} is malformed`);
  return {
    item: item.includes('/') ? item : `${sourceId}/${item}`,
    first: parsed.first,
    last: parsed.last,
  };
}

async function readSegment(store: SessionStore, sessionId: string, item: string) {
  const key = segmentBlobKey(sessionId, item);
  const bytes = await store.blobs.get(key);
  if (!bytes) throw new Error(`session ${sessionId}: segment ${key} is missing from the store`);
  return decodeSegment(key, bytes);
}

/**
 * The highest input seq among the user messages of `1..atSeq`, which makes the fork idle with
 * consistent input counters. Inputs are logged in order (steering messages carry the running
 * input's seq), so the last user message has it: segments are read backwards until one is found,
 * usually within the last turn.
 */
async function lastInputSeq(
  store: SessionStore,
  sourceId: string,
  refs: SegmentRef[],
  atSeq: number,
  straddling: LogEntry[],
): Promise<number> {
  const fromStraddling = lastUserInput(straddling);
  if (fromStraddling !== undefined) return fromStraddling;
  const whole = refs.filter((r) => r.last <= atSeq);
  for (let i = whole.length - 1; i >= 0; i--) {
    const found = lastUserInput(await readSegment(store, sourceId, whole[i]!.item));
    if (found !== undefined) return found;
  }
  return 0;
}

function lastUserInput(entries: LogEntry[]): number | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (entry.kind === 'user_message') return entry.inputSeq;
  }
  return undefined;
}
