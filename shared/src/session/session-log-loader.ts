import type { Redis } from 'ioredis';
import type { BlobStore } from './blob-store.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import type { LogEntry } from './log-entry.ts';
import { mapLimit } from './map-limit.ts';
import { decodeSegment } from './segment-codec.ts';
import { blobKeys, redisKeys, segmentBlobKey } from './session-keys.ts';
import { decodeSnapshotPack } from './snapshot-codec.ts';
import { foldedItems, foldedSeq, type PackRef, parsePacks } from './snapshot-packs.ts';

/** A session's log as far as this process has read it: the first `segments` items of its list. */
export type LoadedLog = { readonly segments: number; readonly entries: LogEntry[] };

export type LogLoaderOptions = {
  /** Sessions whose logs stay in memory (least recently used go first). */
  cacheLimit?: number;
  /** Blob reads in flight during one load. */
  concurrency?: number;
  /**
   * A snapshot pack could not be used (missing, corrupt, inconsistent with the head): the log was
   * read from its segments instead, which are the truth. Nothing is lost, but it is worth a log line.
   */
  onSnapshotUnusable?: (error: Error, sessionId: string) => void;
};

/**
 * Reads session logs for a `SessionStore`. A warm load reads only segments this process has not
 * seen; a cold one reads the snapshot packs plus the segments after them, a number of reads that
 * grows with the logarithm of the session's length (snapshot-packs.ts). Cached logs are never mutated: a load that
 * raced a commit cannot double entries.
 */
export class SessionLogLoader {
  readonly #redis: Redis;
  readonly #blobs: BlobStore;
  readonly #cache = new Map<string, LoadedLog>();
  readonly #cacheLimit: number;
  readonly #concurrency: number;
  readonly #onSnapshotUnusable: (error: Error, sessionId: string) => void;

  constructor(redis: Redis, blobs: BlobStore, options: LogLoaderOptions = {}) {
    this.#redis = redis;
    this.#blobs = blobs;
    this.#cacheLimit = options.cacheLimit ?? 2000;
    this.#concurrency = options.concurrency ?? 32;
    this.#onSnapshotUnusable = options.onSnapshotUnusable ?? (() => {});
  }

  async load(id: string): Promise<LoadedLog> {
    const cached = this.#cache.get(id);
    const log = (cached && (await this.#extend(id, cached))) ?? (await this.#loadCold(id));
    this.#remember(id, log);
    return log;
  }

  /** The log as cached, without asking Redis: what a committer just extended. */
  cached(id: string): LoadedLog | undefined {
    return this.#cache.get(id);
  }

  /** Records a commit of this process, so its next load reads nothing it already has. */
  appended(id: string, expectedLastSeq: number, entries: LogEntry[]): void {
    const cached = this.#cache.get(id);
    if (cached && lastSeqOf(cached) === expectedLastSeq) {
      this.#remember(id, {
        segments: cached.segments + 1,
        entries: cached.entries.concat(entries),
      });
    }
  }

  forget(id: string): void {
    this.#cache.delete(id);
  }

  /** New segments after a cached log, or `undefined` when the list no longer extends it. */
  async #extend(id: string, cached: LoadedLog): Promise<LoadedLog | undefined> {
    const replies = await this.#redis
      .multi()
      .llen(redisKeys.segments(id))
      .lrange(redisKeys.segments(id), cached.segments, -1)
      .exec();
    const length = Number(replies?.[0]?.[1] ?? 0);
    const fresh = (replies?.[1]?.[1] ?? []) as string[];
    if (length < cached.segments) return undefined;
    if (fresh.length === 0) return cached;
    const entries = await this.#readSegments(id, fresh, lastSeqOf(cached));
    return { segments: cached.segments + fresh.length, entries: cached.entries.concat(entries) };
  }

  async #loadCold(id: string): Promise<LoadedLog> {
    // A pack replaced by a merge since the list was read is gone: read the list again, once.
    for (let attempt = 0; attempt < 2; attempt++) {
      const replies = await this.#redis
        .multi()
        .hget(redisKeys.meta(id), 'packs')
        .llen(redisKeys.segments(id))
        .exec();
      const packs = parsePacks(replies?.[0]?.[1] as string | null);
      const length = Number(replies?.[1]?.[1] ?? 0);
      if (!packs || packs.length === 0 || foldedItems(packs) > length) break;
      const folded = foldedItems(packs);
      const tail = await this.#redis.lrange(redisKeys.segments(id), folded, -1);
      // A pack's failure is survivable (the segments hold everything); the tail's is not.
      const [packed, entries] = await Promise.all([
        this.#readPacks(id, packs).catch((error: Error) => error),
        this.#readSegments(id, tail, foldedSeq(packs)),
      ]);
      if (!(packed instanceof Error)) {
        return { segments: folded + tail.length, entries: packed.concat(entries) };
      }
      if (attempt === 1 || !CorruptBlobError.is(packed) || packed.reason !== 'missing') {
        this.#onSnapshotUnusable(packed, id);
        break;
      }
    }
    const names = await this.#redis.lrange(redisKeys.segments(id), 0, -1);
    return { segments: names.length, entries: await this.#readSegments(id, names, 0) };
  }

  async #readPacks(id: string, packs: PackRef[]): Promise<LogEntry[]> {
    const parts = await mapLimit(packs, this.#concurrency, async (ref) => {
      const key = blobKeys.snapshot(id, ref.first, ref.last);
      const bytes = await this.#blobs.get(key);
      if (!bytes) throw new CorruptBlobError(key, 'missing', 'the head points at it');
      const pack = decodeSnapshotPack(key, bytes);
      if (pack.first !== ref.first || pack.last !== ref.last || pack.items.length !== ref.items) {
        throw new CorruptBlobError(key, 'malformed', 'its header does not match the head');
      }
      return pack.entries;
    });
    return parts.flat();
  }

  /** Reads segment list items in order; their entries must continue the log from `afterSeq`. */
  async #readSegments(id: string, names: string[], afterSeq: number): Promise<LogEntry[]> {
    const parts = await mapLimit(names, this.#concurrency, async (name) => {
      const key = segmentBlobKey(id, name);
      const bytes = await this.#blobs.get(key);
      if (!bytes) throw new CorruptBlobError(key, 'missing', 'the head points at it');
      return { key, entries: decodeSegment(key, bytes) };
    });
    let previous = afterSeq;
    const out: LogEntry[] = [];
    for (const part of parts) {
      const first = part.entries[0]?.seq;
      if (first !== previous + 1) {
        throw new CorruptBlobError(
          part.key,
          'gap',
          `starts at seq ${first}, expected ${previous + 1}`,
        );
      }
      previous = part.entries.at(-1)?.seq ?? previous;
      for (const entry of part.entries) out.push(entry);
    }
    return out;
  }

  #remember(id: string, log: LoadedLog): void {
    const current = this.#cache.get(id);
    // A slower load must not replace what a commit or a newer load already put here.
    if (current && current !== log && current.segments > log.segments) return;
    this.#cache.delete(id);
    this.#cache.set(id, log);
    if (this.#cache.size > this.#cacheLimit) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }
}

export const lastSeqOf = (log: LoadedLog): number => log.entries.at(-1)?.seq ?? 0;
