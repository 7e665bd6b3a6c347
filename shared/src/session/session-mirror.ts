import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.ts';
import type { BlobStore } from './blob-store.ts';
import { blobKeys, redisKeys } from './session-keys.ts';
import { lastSeqOf, type SessionLogLoader } from './session-log-loader.ts';
import { encodeManifest, type Manifest } from './session-manifest.ts';
import { encodeSnapshotPack } from './snapshot-codec.ts';
import { foldedItems, foldedSeq, foldTail, type PackRef, parsePacks } from './snapshot-packs.ts';

const recordPacks = new LuaScript('record-packs-1.lua');
const readHead = new LuaScript('read-head-2.lua');

export type MirrorOptions = {
  /** The segments after the snapshot packs become a new pack once there are this many; 0: never. */
  snapshotEvery?: number;
  /** The mirror never fails a commit; its failures go here (the next commit tries again). */
  onError?: (error: Error, sessionId: string) => void;
};

type Pending = { dirty: boolean; done: Promise<void> };

/**
 * Keeps the blob store able to stand in for Redis: after each commit it mirrors the head to
 * `manifest.json` and, every `snapshotEvery` segments, folds them into a snapshot pack
 * (snapshot-packs.ts). It runs
 * after the head's compare-and-set succeeded and off the commit's path: the Redis path never
 * needs it, it is the recovery path and what keeps cold loads short.
 *
 * Per session, at most one sync runs and at most one more is pending, so a burst of commits costs
 * two manifest writes, not one per commit, and a slow write never lands after a newer one.
 */
export class SessionMirror {
  readonly #redis: Redis;
  readonly #blobs: BlobStore;
  readonly #loader: SessionLogLoader;
  readonly #snapshotEvery: number;
  readonly #onError: (error: Error, sessionId: string) => void;
  readonly #pending = new Map<string, Pending>();

  constructor(redis: Redis, blobs: BlobStore, loader: SessionLogLoader, options: MirrorOptions) {
    this.#redis = redis;
    this.#blobs = blobs;
    this.#loader = loader;
    this.#snapshotEvery = options.snapshotEvery ?? 8;
    this.#onError = options.onError ?? (() => {});
  }

  /** Schedules a sync of the session's manifest (and snapshot pack, when one is due). */
  afterCommit(id: string): void {
    const pending = this.#pending.get(id);
    if (pending) {
      pending.dirty = true;
      return;
    }
    const state: Pending = { dirty: true, done: Promise.resolve() };
    state.done = (async () => {
      while (state.dirty) {
        state.dirty = false;
        try {
          await this.sync(id);
        } catch (error) {
          this.#onError(error instanceof Error ? error : new Error(String(error)), id);
        }
      }
      this.#pending.delete(id);
    })();
    this.#pending.set(id, state);
  }

  /** Resolves once every scheduled sync has finished (tests, benchmarks, graceful shutdown). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) {
      await Promise.all([...this.#pending.values()].map((p) => p.done));
    }
  }

  /** Mirrors the head now; for operations that change a session without a commit (fork, import). */
  async sync(id: string): Promise<void> {
    await this.#packIfDue(id);
    await this.#writeManifest(id);
  }

  async #packIfDue(id: string): Promise<void> {
    if (this.#snapshotEvery <= 0) return;
    const replies = await this.#redis
      .multi()
      .hget(redisKeys.meta(id), 'packs')
      .llen(redisKeys.segments(id))
      .exec();
    const raw = (replies?.[0]?.[1] ?? '') as string;
    const length = Number(replies?.[1]?.[1] ?? 0);
    // An unreadable field is replaced, as if there were no packs yet.
    const packs = parsePacks(raw) ?? [];
    const folded = foldedItems(packs);
    if (length - folded < this.#snapshotEvery) return;
    // The committer's cache already holds the log; a cold read happens only after a restart.
    let log = this.#loader.cached(id);
    if (!log || log.segments < length) log = await this.#loader.load(id);
    if (log.segments - folded < this.#snapshotEvery) return;
    const tail: PackRef = {
      first: foldedSeq(packs) + 1,
      last: lastSeqOf(log),
      items: log.segments - folded,
    };
    const next = foldTail(packs, tail);
    const pack = next.write;
    const from = log.segments - pack.items;
    const items = await this.#redis.lrange(redisKeys.segments(id), from, log.segments - 1);
    const entries = log.entries.slice(pack.first - 1, pack.last);
    if (
      items.length !== pack.items ||
      entries[0]?.seq !== pack.first ||
      entries.at(-1)?.seq !== pack.last
    ) {
      throw new Error(`session ${id}: the packs do not match the log; not packing`);
    }
    await this.#blobs.put(
      blobKeys.snapshot(id, pack.first, pack.last),
      encodeSnapshotPack({ ...pack, items, entries }),
    );
    const recorded = await recordPacks.run(
      this.#redis,
      [redisKeys.meta(id)],
      [raw, JSON.stringify(next.packs), pack.last, foldedItems(next.packs)],
    );
    if (recorded === 1) await this.#prune(id, next.packs);
  }

  /**
   * Deletes the packs that a merge replaced: those inside a pack of the new list. A pack reaching
   * past them may be another worker's newer one (around a lease handover) and is left alone. A
   * reader that listed a deleted pack a moment ago finds it gone, reads the list again and loads
   * the merged pack (session-log-loader.ts).
   */
  async #prune(id: string, packs: PackRef[]): Promise<void> {
    const keep = new Set(packs.map((p) => blobKeys.snapshot(id, p.first, p.last)));
    const keys = await this.#blobs.list(blobKeys.snapshotsPrefix(id));
    for (const key of keys) {
      const range = /\/(\d{10})-(\d{10})\.jsonl$/.exec(key);
      if (keep.has(key) || !range?.[1] || !range[2]) continue;
      const [first, last] = [Number(range[1]), Number(range[2])];
      if (packs.some((p) => p.first <= first && last <= p.last))
        await this.#blobs.deletePrefix(key);
    }
  }

  async #writeManifest(id: string): Promise<void> {
    const [flat, segments] = (await readHead.run(
      this.#redis,
      [redisKeys.meta(id), redisKeys.segments(id)],
      [],
    )) as [string[], string[]];
    if (flat.length === 0) return;
    const meta = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2) meta.set(flat[i]!, flat[i + 1]!);
    const num = (field: string) => Number(meta.get(field) ?? 0);
    const manifest: Manifest = {
      version: 1,
      sessionId: id,
      ...(meta.get('owner') ? { owner: meta.get('owner') } : {}),
      title: meta.get('title') ?? '',
      model: meta.get('model') ?? '',
      epoch: num('epoch'),
      lastSeq: num('lastSeq'),
      inputSeq: num('inputSeq'),
      doneInputSeq: num('doneInputSeq'),
      updatedAt: num('updatedAt'),
      packs: parsePacks(meta.get('packs')) ?? [],
      segments,
    };
    await this.#blobs.put(blobKeys.manifest(id), encodeManifest(manifest));
    // A deletion that ran while this write was in flight may have listed the session's blobs
    // before it landed: take it back, so no manifest outlives its session.
    if ((await this.#redis.exists(redisKeys.meta(id))) === 0) {
      await this.#blobs.deletePrefix(blobKeys.manifest(id));
    }
  }
}
