import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobStore, ListOptions } from '@tern/shared/session/blob-store';
import { FileBlobStore } from '@tern/shared/session/file-blob-store';
import type { LogEntry } from '@tern/shared/session/log-entry';
import { openBlobStore } from '@tern/shared/session/open-blob-store';
import { blobKeys, redisKeys } from '@tern/shared/session/session-keys';
import { type Lease, SessionStore } from '@tern/shared/session/session-store';
import { startRedis, type TestRedis } from '../test/helpers/redis-server.ts';
import { startS3, type TestS3 } from '../test/helpers/s3-server.ts';
import { turnCommits } from '../test/helpers/session-fixtures.ts';
import { ms, summarize, table } from './stats.ts';
import { runTakeover } from './takeover.ts';

const TURNS = 1000;
const SNAPSHOT_EVERY = 8;
/** Turns averaged around "turn 10" and "turn 1000". */
const EARLY = [6, 15] as const;
const LATE = [TURNS - 9, TURNS] as const;
const COLD_LOADS = 7;

type Kind = 'segment' | 'manifest' | 'snapshot' | 'other';

/** Counts the bytes each kind of blob puts, to tell the commit path from the background. */
class MeteredStore implements BlobStore {
  readonly bytes: Record<Kind, number> = { segment: 0, manifest: 0, snapshot: 0, other: 0 };
  readonly inner: BlobStore;
  constructor(inner: BlobStore) {
    this.inner = inner;
  }
  put(key: string, body: Uint8Array | string) {
    this.bytes[kindOf(key)] += typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    return this.inner.put(key, body);
  }
  get(key: string) {
    return this.inner.get(key);
  }
  list(prefix: string, options?: ListOptions) {
    return this.inner.list(prefix, options);
  }
  deletePrefix(prefix: string) {
    return this.inner.deletePrefix(prefix);
  }
  describe() {
    return this.inner.describe();
  }
}

const kindOf = (key: string): Kind =>
  key.includes('/segments/')
    ? 'segment'
    : key.endsWith('/manifest.json')
      ? 'manifest'
      : key.includes('/snapshots/')
        ? 'snapshot'
        : 'other';

type TurnSample = {
  commitMs: number[];
  mirrorMs: number;
  bytes: Record<Kind, number>;
};

/**
 * `npm run bench -- sessions`: one session of 1000 realistic turns (five commits each) on the
 * folder store and on a local s3rver, measuring each commit (segment put + head compare-and-set)
 * and what the mirror writes after it (manifest, periodic snapshot), at turn 10 and at turn 1000;
 * then cold loads of the whole session (fresh SessionStore, empty cache) from its snapshot, beside
 * the full-log read without one as the baseline, and the stored size.
 */
export async function run(): Promise<void> {
  const redis = await startRedis();
  const s3 = await startS3('tern-bench');
  const dir = mkdtempSync(join(tmpdir(), 'tern-bench-sessions-'));
  try {
    const stores: [string, () => BlobStore][] = [
      ['folder', () => new FileBlobStore(join(dir, 'blobs'))],
      ['s3rver', () => s3Store(s3)],
    ];
    const perCommit: string[][] = [];
    const loads: string[][] = [];
    const sizes: string[][] = [];
    for (const [name, open] of stores) {
      const result = await benchStore(redis, open);
      const early = window(result.turns, EARLY);
      const late = window(result.turns, LATE);
      for (const [label, w] of [
        ['turn 10', early],
        ['turn 1000', late],
      ] as const) {
        perCommit.push([
          name,
          label,
          ms(w.commit.median),
          ms(w.commit.p99),
          `${w.segmentBytes.toFixed(0)} B`,
          `${w.manifestBytes.toFixed(0)} B`,
          `${(w.snapshotBytes / 1024).toFixed(1)} KiB`,
          ms(w.mirrorMs),
        ]);
      }
      perCommit.push([
        name,
        '1000 / 10',
        `${(late.commit.median / early.commit.median).toFixed(2)}×`,
        '',
        `${(late.segmentBytes / early.segmentBytes).toFixed(2)}×`,
        `${(late.manifestBytes / early.manifestBytes).toFixed(2)}×`,
        `${(late.snapshotBytes / early.snapshotBytes).toFixed(2)}×`,
        '',
      ]);
      const all = window(result.turns, [1, TURNS]);
      perCommit.push([
        name,
        'whole run',
        ms(all.commit.median),
        ms(all.commit.p99),
        `${all.segmentBytes.toFixed(0)} B`,
        `${all.manifestBytes.toFixed(0)} B`,
        `${(all.snapshotBytes / 1024).toFixed(1)} KiB`,
        ms(all.mirrorMs),
      ]);
      loads.push(
        [
          name,
          'snapshot packs + tail',
          ms(result.coldSnapshot.min),
          ms(result.coldSnapshot.median),
          ms(result.coldSnapshot.p99),
        ],
        [
          name,
          'every segment (baseline)',
          ms(result.coldFull.min),
          ms(result.coldFull.median),
          ms(result.coldFull.p99),
        ],
      );
      sizes.push([
        name,
        mib(result.stored.segment),
        mib(result.stored.snapshot),
        `${(result.stored.manifest / 1024).toFixed(1)} KiB`,
        mib(result.stored.segment + result.stored.snapshot + result.stored.manifest),
        `${result.packs} packs + ${result.tail} of ${result.segments} segments`,
      ]);
    }
    console.log(`\nPer commit, averaged over turns ${EARLY.join('–')} and ${LATE.join('–')}:`);
    console.log(
      table(
        [
          'store',
          'at',
          'commit p50',
          'p99',
          'segment bytes',
          'manifest bytes',
          'packs (background)',
          'mirror time',
        ],
        perCommit,
      ),
    );
    console.log(
      `\nCold load of the ${TURNS}-turn session (fresh SessionStore, ${COLD_LOADS} runs):`,
    );
    console.log(table(['store', 'read', 'min', 'p50', 'max'], loads));
    console.log(`\nStored size of ${TURNS} turns:`);
    console.log(
      table(
        ['store', 'segments', 'snapshot packs', 'manifest', 'total', 'blobs read by a cold load'],
        sizes,
      ),
    );
    console.log(
      `\nA turn: user message, assistant message with one tool call, tool_started, tool_finished (1.8 KB output), final answer (0.9 KB); five commits. A snapshot pack every ${SNAPSHOT_EVERY} segments, merged like a binary counter. The mirror (manifest every commit, packs) runs after each commit's compare-and-set, off its path; it is settled between commits, as model calls separate them in a real turn. Own redis-server and s3rver on this machine (2 cores).`,
    );
  } finally {
    await Promise.all([redis.stop(), s3.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  await runTakeover();
}

async function benchStore(redis: TestRedis, open: () => BlobStore) {
  const blobs = new MeteredStore(open());
  const store = new SessionStore(redis.client, blobs, { snapshotEvery: SNAPSHOT_EVERY });
  const meta = await store.create({ model: 'openai-compatible:tern-sim' });
  const lease = (await store.acquireLease(meta.id, 'bench', 600_000)) as Lease;
  const turns: TurnSample[] = [];
  let lastSeq = 0;
  for (let turn = 1; turn <= TURNS; turn++) {
    const before = { ...blobs.bytes };
    const sample: TurnSample = { commitMs: [], mirrorMs: 0, bytes: before };
    const commits = turnCommits(turn, lastSeq + 1, lease.epoch);
    for (const [i, entries] of commits.entries()) {
      const started = performance.now();
      const result = await store.commit(lease, lastSeq, entries, i === 4 ? turn : undefined);
      sample.commitMs.push(performance.now() - started);
      if (result !== 'committed') throw new Error(`commit ${turn}/${i} was ${result}`);
      lastSeq += entries.length;
      const settling = performance.now();
      await store.mirror.settled();
      sample.mirrorMs += performance.now() - settling;
    }
    sample.bytes = diff(blobs.bytes, before);
    turns.push(sample);
  }
  await store.releaseLease(lease);

  const expected = await store.entries(meta.id);
  const coldSnapshot = await coldLoads(redis, open, meta.id, expected);
  // The baseline: the same cold load without snapshot packs to start from.
  const [packs, packedItems] = await redis.client.hmget(
    redisKeys.meta(meta.id),
    'packs',
    'packedItems',
  );
  await redis.client.hdel(redisKeys.meta(meta.id), 'packs', 'packedItems');
  const coldFull = await coldLoads(redis, open, meta.id, expected);
  await redis.client.hset(redisKeys.meta(meta.id), {
    packs: packs ?? '',
    packedItems: packedItems ?? '0',
  });

  const stored: Record<Kind, number> = { segment: 0, manifest: 0, snapshot: 0, other: 0 };
  const keys = await blobs.list(blobKeys.sessionPrefix(meta.id));
  for (const key of keys) stored[kindOf(key)] += (await blobs.get(key))?.length ?? 0;
  return {
    turns,
    coldSnapshot,
    coldFull,
    stored,
    segments: await redis.client.llen(redisKeys.segments(meta.id)),
    packs: (JSON.parse(packs ?? '[]') as unknown[]).length,
    tail: (await redis.client.llen(redisKeys.segments(meta.id))) - Number(packedItems ?? 0),
  };
}

async function coldLoads(
  redis: TestRedis,
  open: () => BlobStore,
  id: string,
  expected: LogEntry[],
) {
  const samples: number[] = [];
  for (let i = 0; i < COLD_LOADS; i++) {
    const store = new SessionStore(redis.client, open());
    const started = performance.now();
    const entries = await store.entries(id);
    samples.push(performance.now() - started);
    if (entries.length !== expected.length) throw new Error('cold load read a different log');
  }
  // The first load pays for JIT warm-up and the SDK's first connections; report the steady state.
  const steady = summarize(samples.slice(1));
  return {
    median: steady.median,
    p99: Math.max(...samples.slice(1)),
    min: Math.min(...samples.slice(1)),
  };
}

function window(turns: TurnSample[], [from, to]: readonly [number, number]) {
  const picked = turns.slice(from - 1, to);
  const commits = picked.reduce((n, t) => n + t.commitMs.length, 0);
  const sum = (k: Kind) => picked.reduce((n, t) => n + t.bytes[k], 0) / commits;
  return {
    commit: summarize(picked.flatMap((t) => t.commitMs)),
    segmentBytes: sum('segment'),
    manifestBytes: sum('manifest'),
    snapshotBytes: sum('snapshot'),
    mirrorMs: picked.reduce((n, t) => n + t.mirrorMs, 0) / commits,
  };
}

function diff(after: Record<Kind, number>, before: Record<Kind, number>): Record<Kind, number> {
  return {
    segment: after.segment - before.segment,
    manifest: after.manifest - before.manifest,
    snapshot: after.snapshot - before.snapshot,
    other: after.other - before.other,
  };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;

function s3Store(s3: TestS3): BlobStore {
  return openBlobStore({
    BLOB_STORE: `s3://${s3.bucket}`,
    S3_ENDPOINT: s3.endpoint,
    S3_REGION: 'us-east-1',
    S3_FORCE_PATH_STYLE: true,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_RETRY_BUDGET_MS: 30_000,
    S3_REQUEST_TIMEOUT_MS: 10_000,
  });
}
