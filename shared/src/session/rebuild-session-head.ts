import type { Redis } from 'ioredis';
import { batchIdSchema } from '../protocol/batch-api.ts';
import type { BlobStore } from './blob-store.ts';
import { CorruptBlobError } from './corrupt-blob-error.ts';
import { headFromLog } from './head-from-log.ts';
import type { LogEntry } from './log-entry.ts';
import { mapLimit } from './map-limit.ts';
import { walkSegmentChain } from './segment-chain.ts';
import { decodeSegment } from './segment-codec.ts';
import { blobKeys, padSeq, redisKeys, segmentBlobKey } from './session-keys.ts';
import { decodeManifest, type Manifest } from './session-manifest.ts';
import { decodeSnapshotPack, type SnapshotPack } from './snapshot-codec.ts';
import { foldedItems, type PackRef } from './snapshot-packs.ts';

export type RebuildResult =
  | {
      id: string;
      status: 'rebuilt';
      lastSeq: number;
      segments: number;
      /** How far the snapshot packs reach. */
      packedSeq: number;
      /** Inputs whose turn had not finished: they are pending again, for a worker to resume. */
      pendingInputs: number[];
      /** Whatever the rebuild had to decide without the manifest's word, for the operator. */
      notes: string[];
    }
  | { id: string; status: 'present' }
  | { id: string; status: 'failed'; error: string };

/**
 * Restores a session's Redis state (meta hash, segment list, snapshot pointer, inputs, index
 * entry) from the blob store alone, after Redis lost its data. The store holds `session.json`
 * (the session's settings), the manifest (the head as last mirrored), snapshots and segments.
 * A session still present in Redis is left alone unless `force` is set.
 */
export async function rebuildSessionHead(
  redis: Redis,
  blobs: BlobStore,
  id: string,
  options: { force?: boolean } = {},
): Promise<RebuildResult> {
  try {
    if (!options.force && (await redis.exists(redisKeys.meta(id))) === 1) {
      return { id, status: 'present' };
    }
    return await rebuild(redis, blobs, id);
  } catch (error) {
    return { id, status: 'failed', error: error instanceof Error ? error.message : String(error) };
  }
}

async function rebuild(
  redis: Redis,
  blobs: BlobStore,
  id: string,
): Promise<RebuildResult & { status: 'rebuilt' }> {
  const notes: string[] = [];
  const settings = await readSettings(blobs, id);
  const manifest = await readManifest(blobs, id, notes);
  const packs = await readPacks(blobs, id, manifest, notes);
  const start = {
    items: packs.flatMap((p) => p.items),
    lastSeq: packs.at(-1)?.last ?? 0,
  };
  // Only segments that could continue the log are listed: the packs folded the others.
  const listed = (
    await blobs.list(blobKeys.segmentsPrefix(id), {
      startAfter: `${blobKeys.segmentsPrefix(id)}${padSeq(start.lastSeq + 1)}`,
    })
  ).map((key) => key.slice(blobKeys.segmentsPrefix(id).length).replace(/\.jsonl$/, ''));
  const chain = walkSegmentChain(start, manifest?.segments ?? [], listed);
  if (chain.unconfirmed.length > 0) {
    notes.push(
      `${chain.unconfirmed.length} segment(s) after the manifest adopted from the listing (a commit whose manifest write did not happen, or a step written just before its worker died)`,
    );
  }
  if (chain.ambiguous > 0) {
    notes.push(`${chain.ambiguous} position(s) had competing segments; the newest lease's won`);
  }

  const tailItems = chain.items.slice(start.items.length);
  const tail = await mapLimit(tailItems, 16, async (item) => {
    const key = segmentBlobKey(id, item);
    const bytes = await blobs.get(key);
    if (!bytes) throw new CorruptBlobError(key, 'missing', 'the rebuilt head needs it');
    return decodeSegment(key, bytes);
  });
  const entries: LogEntry[] = packs.flatMap((p) => p.entries).concat(...tail);
  const head = headFromLog(entries);
  if (manifest && manifest.lastSeq > head.lastSeq) {
    throw new Error(
      `the manifest's head is at seq ${manifest.lastSeq} but the store's segments reach only ${head.lastSeq}`,
    );
  }
  // The manifest knows how far the turns went when it is as recent as the log itself.
  const doneInputSeq =
    manifest && manifest.lastSeq === head.lastSeq
      ? Math.min(manifest.doneInputSeq, head.inputSeq)
      : head.doneInputSeq;
  const pendingInputs: number[] = [];
  for (let s = doneInputSeq + 1; s <= head.inputSeq; s++) pendingInputs.push(s);

  const createdAt = numberField(settings.createdAt) ?? entries[0]?.at ?? Date.now();
  const meta: Record<string, string | number> = {
    ...settings.strings,
    id,
    owner: settings.strings.owner ?? manifest?.owner ?? '',
    title: manifest?.title ?? settings.strings.title ?? 'Recovered session',
    model: manifest?.model ?? settings.strings.model ?? '',
    createdAt,
    updatedAt: manifest?.updatedAt ?? entries.at(-1)?.at ?? createdAt,
    status: pendingInputs.length > 0 ? 'queued' : 'idle',
    lastSeq: head.lastSeq,
    inputSeq: head.inputSeq,
    doneInputSeq,
    // Never below an epoch already used: the next lease must fence every earlier writer.
    epoch: Math.max(head.epoch, manifest?.epoch ?? 0, numberField(settings.epoch) ?? 0),
  };
  if (packs.length > 0) {
    const refs: PackRef[] = packs.map((p) => ({
      first: p.first,
      last: p.last,
      items: p.items.length,
    }));
    meta.packs = JSON.stringify(refs);
    meta.packedItems = foldedItems(refs);
  }

  const tx = redis
    .multi()
    .del(redisKeys.meta(id), redisKeys.segments(id), redisKeys.inputs(id))
    .hset(redisKeys.meta(id), meta);
  for (let i = 0; i < chain.items.length; i += 1000) {
    tx.rpush(redisKeys.segments(id), ...chain.items.slice(i, i + 1000));
  }
  const inputs = [...head.inputs].flatMap(([seq, input]) => [String(seq), JSON.stringify(input)]);
  if (inputs.length > 0) tx.hset(redisKeys.inputs(id), ...inputs);
  tx.zadd(redisKeys.sessionIndex, createdAt, id);
  if (meta.owner) tx.zadd(redisKeys.ownerIndex(String(meta.owner)), createdAt, id);
  // The source keeps the segments this fork shares only while it knows of the fork.
  if (settings.strings.forkOf) tx.zadd(redisKeys.forks(settings.strings.forkOf), createdAt, id);
  await tx.exec();
  return {
    id,
    status: 'rebuilt',
    lastSeq: head.lastSeq,
    segments: chain.items.length,
    packedSeq: start.lastSeq,
    pendingInputs,
    notes,
  };
}

type Settings = {
  /** Scalar fields of `session.json`, as the meta hash stores them. */
  strings: Record<string, string>;
  createdAt: unknown;
  epoch: unknown;
};

async function readSettings(blobs: BlobStore, id: string): Promise<Settings> {
  const key = blobKeys.meta(id);
  const bytes = await blobs.get(key);
  if (!bytes) throw new CorruptBlobError(key, 'missing', 'every session has one');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new CorruptBlobError(key, 'malformed', 'not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CorruptBlobError(key, 'malformed', 'not a JSON object');
  }
  const record = value as Record<string, unknown>;
  const strings: Record<string, string> = {};
  for (const [field, v] of Object.entries(record)) {
    if (typeof v === 'string') strings[field] = v;
  }
  // A fork's descriptor carries its origin as an object; the meta hash keeps it flat.
  const from = record.forkedFrom as { sessionId?: unknown; seq?: unknown } | undefined;
  if (from && typeof from.sessionId === 'string' && typeof from.seq === 'number') {
    strings.forkOf = from.sessionId;
    strings.forkSeq = String(from.seq);
  }
  return { strings, createdAt: record.createdAt, epoch: record.epoch };
}

async function readManifest(
  blobs: BlobStore,
  id: string,
  notes: string[],
): Promise<Manifest | undefined> {
  const key = blobKeys.manifest(id);
  const bytes = await blobs.get(key);
  if (!bytes) {
    notes.push('no manifest: the head was rebuilt from snapshots and the segment listing');
    return undefined;
  }
  try {
    return decodeManifest(key, bytes);
  } catch (error) {
    notes.push(`manifest unusable (${(error as Error).message}); rebuilt from the listing`);
    return undefined;
  }
}

/**
 * The snapshot packs the manifest names when all of them read back intact; otherwise the longest
 * run of intact packs from seq 1 that the store's listing offers.
 */
async function readPacks(
  blobs: BlobStore,
  id: string,
  manifest: Manifest | undefined,
  notes: string[],
): Promise<SnapshotPack[]> {
  const read = async (first: number, last: number) => {
    const key = blobKeys.snapshot(id, first, last);
    const bytes = await blobs.get(key);
    if (!bytes) throw new CorruptBlobError(key, 'missing', 'the manifest names it');
    return decodeSnapshotPack(key, bytes);
  };
  if (manifest && manifest.packs.length > 0) {
    try {
      return await mapLimit(manifest.packs, 8, (ref) => read(ref.first, ref.last));
    } catch (error) {
      notes.push(`snapshot pack unusable (${(error as Error).message}); chose from the listing`);
    }
  }
  const listed = (await blobs.list(blobKeys.snapshotsPrefix(id)))
    .map((key) => /\/(\d{10})-(\d{10})\.jsonl$/.exec(key))
    .flatMap((m) => (m?.[1] && m[2] ? [{ first: Number(m[1]), last: Number(m[2]) }] : []));
  const packs: SnapshotPack[] = [];
  let seq = 0;
  for (;;) {
    // The pack reaching furthest first: fewer, larger packs are what merges leave behind.
    const candidates = listed.filter((p) => p.first === seq + 1).sort((a, b) => b.last - a.last);
    let next: SnapshotPack | undefined;
    for (const candidate of candidates) {
      try {
        next = await read(candidate.first, candidate.last);
        break;
      } catch (error) {
        notes.push(`snapshot pack skipped: ${(error as Error).message}`);
      }
    }
    if (!next) return packs;
    packs.push(next);
    seq = next.last;
  }
}

function numberField(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Ids of every session in the store, from its `sessions/<id>/` folders. A batch's snapshot is a
 * workspace store there too (under its `bat_` id, shared by its target sessions) but no session.
 */
export async function listStoredSessionIds(blobs: BlobStore): Promise<string[]> {
  const folders = blobs.listFolders
    ? await blobs.listFolders('sessions/')
    : [...new Set((await blobs.list('sessions/')).map((k) => `sessions/${k.split('/')[1]}/`))];
  return folders
    .map((f) => f.slice('sessions/'.length, -1))
    .filter((f) => f.length > 0 && !batchIdSchema.safeParse(f).success);
}
