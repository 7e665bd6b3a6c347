import type { Redis } from 'ioredis';
import type { BlobStore } from './blob-store.ts';
import { mapLimit } from './map-limit.ts';
import { redisKeys, segmentBlobKey } from './session-keys.ts';
import { parsePacks } from './snapshot-packs.ts';

/** What a session's log occupies: its commits (one segment each), snapshot packs and bytes. */
export type LogFootprint = { commits: number; snapshots: number; bytes: number };

/**
 * Reads the head's segment list and pack list, and the size of every listed segment (a fork's
 * shared segments included: they are its log too). One blob read per segment, a few at a time:
 * meant for an on-demand view, not a hot path.
 */
export async function sessionLogFootprint(
  redis: Redis,
  blobs: BlobStore,
  sessionId: string,
  concurrency = 16,
): Promise<LogFootprint> {
  const replies = await redis
    .multi()
    .lrange(redisKeys.segments(sessionId), 0, -1)
    .hget(redisKeys.meta(sessionId), 'packs')
    .exec();
  const segments = (replies?.[0]?.[1] ?? []) as string[];
  const packs = parsePacks(replies?.[1]?.[1] as string | null) ?? [];
  const sizes = await mapLimit(segments, concurrency, async (item) => {
    const bytes = await blobs.get(segmentBlobKey(sessionId, item));
    return bytes?.byteLength ?? 0;
  });
  return {
    commits: segments.length,
    snapshots: packs.length,
    bytes: sizes.reduce((a, b) => a + b, 0),
  };
}
