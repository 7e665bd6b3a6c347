import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { TernError } from '../errors/tern-error.ts';
import {
  type BatchConcurrency,
  type BatchDetail,
  type BatchEvent,
  type BatchProgress,
  type BatchStatus,
  type BatchStreamEvent,
  type BatchSummary,
  type BatchTargetState,
  batchTargetStateSchema,
  isTerminalTargetStatus,
} from '../protocol/batch-api.ts';
import { LuaScript } from '../redis/lua-script.ts';
import type { BlobStore } from '../session/blob-store.ts';
import { mapLimit } from '../session/map-limit.ts';
import { batchBlobKeys, batchKeys } from './batch-keys.ts';
import { type BatchMeta, metaFields, parseMeta } from './batch-meta.ts';
import {
  type PreparedBatchFile,
  type PreparedBatchInput,
  preparedBatchSchema,
} from './batch-prepared.ts';
import { type BatchTotals, computeBatchProgress, MICRO_USD } from './batch-progress.ts';
import { type TargetResult, type TargetStatus, targetResultSchema } from './batch-result.ts';
import { parseBatchStreamEntry } from './batch-stream-entry.ts';
import { initialTargetStates } from './batch-target-state.ts';

const setTargetScript = new LuaScript('set-batch-target-1.lua');
const finishTargetScript = new LuaScript('finish-batch-target-3.lua');
const cancelScript = new LuaScript('cancel-batch-1.lua');
const finishBatchScript = new LuaScript('finish-batch-2.lua');
const retryScript = new LuaScript('retry-batch-targets-2.lua');

/** Events kept per batch stream; a client further behind reloads the batch from the API. */
export const BATCH_STREAM_MAXLEN = 10_000;

/** Blob reads in flight at once when reading every result of a batch. */
const PARALLEL = 16;

export type CreateBatchInit = {
  id: string;
  owner: string;
  title?: string | undefined;
  /** The prepared file's values when absent. */
  framework?: string;
  testCommand?: string;
  model?: string;
  concurrency?: BatchConcurrency;
  allowTouchingSource?: boolean;
  /** The snapshot's workspace tree, seeded under the batch id. */
  snapshotTree: string;
  /** The validated request; its `source` (a whole tarball, maybe) is not kept. */
  request: Record<string, unknown>;
  prepared: PreparedBatchInput;
  /** Every target queued for its first attempt when absent. */
  targets?: BatchTargetState[];
};

export type SetTargetResult = 'updated' | 'stale' | 'missing';
export type FinishTargetResult = 'recorded' | 'duplicate' | 'stale' | 'missing';
export type FinishBatchResult =
  | { kind: 'finished' | 'already'; status: 'done' | 'cancelled' }
  /** A target is still queued or running: another flow's parent will end the batch. */
  | { kind: 'unfinished'; status: BatchStatus; flowNo: number }
  | { kind: 'missing' };
export type RetryResult =
  | { kind: 'retried'; flowNo: number; targets: { id: string; attempt: number }[] }
  | { kind: 'missing' }
  | { kind: 'cancelling' };

/**
 * Batch jobs as stored: meta, target states, totals and the event stream in Redis
 * (batch-keys.ts); the prepared inputs and each finished target's result in the blob store.
 * Shared by the API (create, read, cancel, retry) and dispatchers (target states, results,
 * events). Every write a retried dispatcher job may repeat is idempotent.
 */
export class BatchStore {
  readonly redis: Redis;
  readonly blobs: BlobStore;

  constructor(redis: Redis, blobs: BlobStore) {
    this.redis = redis;
    this.blobs = blobs;
  }

  static newBatchId(): string {
    let alnum = '';
    while (alnum.length < 16) alnum += randomBytes(16).toString('base64').replace(/[+/=]/g, '');
    return `bat_${alnum.slice(0, 16)}`;
  }

  newBatchId(): string {
    return BatchStore.newBatchId();
  }

  /**
   * Stores a new batch: prepared.json first, then meta, targets and the listing indexes in one
   * MULTI, so a visible batch always has its prepared inputs. Returns the meta.
   */
  async create(init: CreateBatchInit): Promise<BatchMeta> {
    const prepared = preparedBatchSchema.parse(init.prepared);
    const targets = init.targets ?? initialTargetStates(prepared.targets);
    const { source: _source, ...request } = init.request;
    const meta: BatchMeta = {
      id: init.id,
      owner: init.owner,
      ...(init.title ? { title: init.title } : {}),
      status: 'running',
      createdAt: Date.now(),
      framework: init.framework ?? prepared.framework,
      testCommand: init.testCommand ?? prepared.testCommand,
      model: init.model ?? prepared.model,
      concurrency: init.concurrency ?? prepared.concurrency,
      allowTouchingSource: init.allowTouchingSource ?? prepared.allowTouchingSource,
      snapshotTree: init.snapshotTree,
      total: targets.length,
      attemptFlow: 1,
      request,
    };
    await this.blobs.put(batchBlobKeys.prepared(meta.id), JSON.stringify(prepared));
    const tx = this.redis
      .multi()
      .hset(batchKeys.meta(meta.id), metaFields(meta))
      .hset(
        batchKeys.targets(meta.id),
        Object.fromEntries(targets.map((t) => [t.id, JSON.stringify(t)])),
      )
      .zadd(batchKeys.index, meta.createdAt, meta.id);
    if (meta.owner) tx.zadd(batchKeys.ownerIndex(meta.owner), meta.createdAt, meta.id);
    await tx.exec();
    return meta;
  }

  async meta(id: string): Promise<BatchMeta | undefined> {
    return parseMeta(await this.redis.hgetall(batchKeys.meta(id)));
  }

  /** The batch's owner ('' where users are off), or `undefined` when there is no such batch. */
  async owner(id: string): Promise<string | undefined> {
    const [exists, owner] = await this.redis.hmget(batchKeys.meta(id), 'id', 'owner');
    return exists ? (owner ?? '') : undefined;
  }

  /** The prepared inputs, checked; `undefined` when the batch has none. */
  async prepared(id: string): Promise<PreparedBatchFile | undefined> {
    return this.#readBlob(batchBlobKeys.prepared(id), preparedBatchSchema);
  }

  /** Every target's state, in target order. */
  async targets(id: string): Promise<BatchTargetState[]> {
    const raw = await this.redis.hvals(batchKeys.targets(id));
    return raw
      .map(parseTargetState)
      .filter((t): t is BatchTargetState => t !== undefined)
      .sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
  }

  async target(id: string, targetId: string): Promise<BatchTargetState | undefined> {
    const raw = await this.redis.hget(batchKeys.targets(id), targetId);
    return raw ? parseTargetState(raw) : undefined;
  }

  /**
   * A non-terminal update of a target (running, its session): applied only while `state.attempt`
   * is the target's current, unfinished attempt, so a job a retry replaced changes nothing.
   */
  async setTarget(id: string, state: BatchTargetState): Promise<SetTargetResult> {
    if (isTerminalTargetStatus(state.status)) {
      throw new Error(`target ${state.id} is ${state.status}: finish it with finishTarget`);
    }
    const result = (await setTargetScript.run(
      this.redis,
      [batchKeys.targets(id)],
      [state.id, JSON.stringify(batchTargetStateSchema.parse(state)), state.attempt],
    )) as number;
    return result === 1 ? 'updated' : result === 0 ? 'stale' : 'missing';
  }

  /**
   * Finishes a target's attempt: the result blob first (so a terminal state always has its
   * result), then the state and the totals, once per attempt, then `target_finished` and
   * `batch_progress`. Finishing the same attempt again (a retried job) changes nothing and
   * publishes nothing.
   */
  async finishTarget(
    id: string,
    state: BatchTargetState,
    result: TargetResult,
  ): Promise<FinishTargetResult> {
    if (!isTerminalTargetStatus(state.status)) {
      throw new Error(`target ${state.id} is ${state.status}, not a terminal status`);
    }
    const checked = batchTargetStateSchema.parse(state);
    await this.blobs.put(
      batchBlobKeys.result(id, state.id),
      JSON.stringify(targetResultSchema.parse(result)),
    );
    const outcome = (await finishTargetScript.run(
      this.redis,
      [batchKeys.targets(id), batchKeys.totals(id), batchKeys.counted(id)],
      [
        state.id,
        JSON.stringify(checked),
        state.attempt,
        state.tokens.input,
        state.tokens.output,
        Math.round(state.costUsd * MICRO_USD),
      ],
    )) as number;
    if (outcome !== 1) return outcome === 2 ? 'duplicate' : outcome === 0 ? 'stale' : 'missing';
    await this.publish(id, {
      type: 'target_finished',
      batchId: id,
      targetId: state.id,
      status: state.status as TargetStatus,
      durationMs: state.durationMs ?? 0,
    });
    const progress = await this.progress(id);
    if (progress) await this.publish(id, { type: 'batch_progress', batchId: id, progress });
    return 'recorded';
  }

  async progress(id: string, meta?: BatchMeta): Promise<BatchProgress | undefined> {
    const m = meta ?? (await this.meta(id));
    if (!m) return undefined;
    const [targets, totals] = await Promise.all([this.targets(id), this.totals(id)]);
    return computeBatchProgress({
      targets,
      totals,
      createdAt: m.createdAt,
      finishedAt: m.finishedAt,
      now: Date.now(),
    });
  }

  async totals(id: string): Promise<BatchTotals> {
    const raw = await this.redis.hgetall(batchKeys.totals(id));
    return {
      inputTokens: Number(raw.inputTokens ?? 0),
      outputTokens: Number(raw.outputTokens ?? 0),
      costMicroUsd: Number(raw.costMicroUsd ?? 0),
    };
  }

  async summary(id: string): Promise<BatchSummary | undefined> {
    const meta = await this.meta(id);
    if (!meta) return undefined;
    const progress = await this.progress(id, meta);
    return progress && summaryOf(meta, progress);
  }

  async detail(id: string): Promise<BatchDetail | undefined> {
    const meta = await this.meta(id);
    if (!meta) return undefined;
    const [targets, totals] = await Promise.all([this.targets(id), this.totals(id)]);
    const progress = computeBatchProgress({
      targets,
      totals,
      createdAt: meta.createdAt,
      finishedAt: meta.finishedAt,
      now: Date.now(),
    });
    return { ...summaryOf(meta, progress), targets };
  }

  /**
   * Newest first: one owner's batches, or every batch with `owner` undefined. The cursor is an
   * offset into the index, like session listing.
   */
  async list(
    owner: string | undefined,
    limit: number,
    cursor = 0,
  ): Promise<{ batches: BatchSummary[]; next: number | null }> {
    const index = owner === undefined ? batchKeys.index : batchKeys.ownerIndex(owner);
    const ids = await this.redis.zrevrange(index, cursor, cursor + limit);
    const summaries = await Promise.all(ids.slice(0, limit).map((id) => this.summary(id)));
    return {
      batches: summaries.filter((s): s is BatchSummary => s !== undefined),
      next: ids.length > limit ? cursor + limit : null,
    };
  }

  /** A finished target's result; `undefined` until it finished. */
  async result(id: string, targetId: string): Promise<TargetResult | undefined> {
    return this.#readBlob(batchBlobKeys.result(id, targetId), targetResultSchema);
  }

  /** The results of every finished target, in target order (the reports' input). */
  async results(id: string): Promise<TargetResult[]> {
    const finished = (await this.targets(id)).filter((t) => isTerminalTargetStatus(t.status));
    const results = await mapLimit(finished, PARALLEL, (t) => this.result(id, t.id));
    return results.filter((r): r is TargetResult => r !== undefined);
  }

  /**
   * Asks a running batch to stop (`cancelling`; dispatchers cancel its targets and the flow's
   * parent marks it `cancelled`). Returns the status after the call; `undefined`: no such batch.
   */
  async requestCancel(id: string): Promise<BatchStatus | undefined> {
    const status = (await cancelScript.run(this.redis, [batchKeys.meta(id)], [])) as string;
    return status === '' ? undefined : (status as BatchStatus);
  }

  /** Sets the status as is (`finishBatch` is the guarded way to end a batch). */
  async setStatus(id: string, status: BatchStatus, finishedAt?: number): Promise<boolean> {
    if ((await this.redis.exists(batchKeys.meta(id))) === 0) return false;
    await this.redis.hset(batchKeys.meta(id), {
      status,
      ...(finishedAt !== undefined ? { finishedAt: String(finishedAt) } : {}),
    });
    return true;
  }

  /**
   * Ends the batch once no target is queued or running: `cancelled` after a cancel, else `done`,
   * with finishedAt, and publishes `batch_finished`. Called by the parent job of each flow
   * (`flowNo`, for the logs): whichever finds every target finished ends the batch, so a retry
   * added while the batch ran cannot be cut short. Finishing again changes nothing, but publishes
   * `batch_finished` if a crash lost it.
   */
  async finishBatch(id: string, flowNo: number): Promise<FinishBatchResult> {
    const [code, status] = (await finishBatchScript.run(
      this.redis,
      [batchKeys.meta(id), batchKeys.targets(id)],
      [Date.now()],
    )) as [number, string];
    if (code === -1) return { kind: 'missing' };
    const batchStatus = status as BatchStatus;
    if (code === 0) return { kind: 'unfinished', status: batchStatus, flowNo };
    if (batchStatus !== 'done' && batchStatus !== 'cancelled') {
      throw new Error(`batch ${id} finished as ${batchStatus}`);
    }
    if (code === 1 || (await this.#lastEvent(id))?.type !== 'batch_finished') {
      const progress = await this.progress(id);
      if (progress) {
        await this.publish(id, {
          type: 'batch_finished',
          batchId: id,
          status: batchStatus,
          progress,
        });
      }
    }
    return { kind: code === 1 ? 'finished' : 'already', status: batchStatus };
  }

  /**
   * Queues the finished targets with one of `statuses` for another attempt (attempt + 1, a fresh
   * session) and, when any, starts a new flow number for them. Their previous results are removed
   * first, so that no stored result speaks for an attempt that has not finished.
   */
  async markRetry(id: string, statuses: readonly TargetStatus[]): Promise<RetryResult> {
    const wanted = new Set<string>(statuses);
    const going = (await this.targets(id)).filter((t) => wanted.has(t.status));
    await mapLimit(going, PARALLEL, (t) => this.blobs.deletePrefix(batchBlobKeys.result(id, t.id)));
    const reply = (await retryScript.run(
      this.redis,
      [batchKeys.meta(id), batchKeys.targets(id)],
      [...wanted],
    )) as (string | number)[];
    if (reply[0] === -1) return { kind: 'missing' };
    if (reply[0] === -2) return { kind: 'cancelling' };
    const targets: { id: string; attempt: number }[] = [];
    for (let i = 2; i < reply.length; i += 2) {
      targets.push({ id: String(reply[i]), attempt: Number(reply[i + 1]) });
    }
    targets.sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
    return { kind: 'retried', flowNo: Number(reply[1]), targets };
  }

  /** Appends an event to the batch's stream; returns its stream id. */
  async publish(id: string, event: BatchEvent): Promise<string> {
    const streamId = await this.redis.xadd(
      batchKeys.events(id),
      'MAXLEN',
      '~',
      BATCH_STREAM_MAXLEN,
      '*',
      'e',
      JSON.stringify(event),
    );
    return streamId as string;
  }

  /** Up to `count` events after the stream id `afterId` ('0-0' or '' for the start). */
  async events(id: string, afterId: string, count: number): Promise<BatchStreamEvent[]> {
    const start = afterId && afterId !== '0-0' ? `(${afterId}` : '-';
    const entries = await this.redis.xrange(batchKeys.events(id), start, '+', 'COUNT', count);
    return entries.flatMap(([streamId, fields]) => {
      const event = parseBatchStreamEntry(fields);
      return event ? [{ id: streamId, event }] : [];
    });
  }

  /** The id of the stream's last event ('0-0' when there is none). */
  async lastEventId(id: string): Promise<string> {
    const last = await this.redis.xrevrange(batchKeys.events(id), '+', '-', 'COUNT', 1);
    return last[0]?.[0] ?? '0-0';
  }

  async #lastEvent(id: string): Promise<BatchEvent | undefined> {
    const last = await this.redis.xrevrange(batchKeys.events(id), '+', '-', 'COUNT', 1);
    return last[0] ? parseBatchStreamEntry(last[0][1]) : undefined;
  }

  async #readBlob<T>(key: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const bytes = await this.blobs.get(key);
    if (!bytes) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      throw corruptBatchBlob(key, 'not JSON');
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw corruptBatchBlob(key, parsed.error.message);
    return parsed.data;
  }
}

function summaryOf(meta: BatchMeta, progress: BatchProgress): BatchSummary {
  return {
    id: meta.id,
    ...(meta.title ? { title: meta.title } : {}),
    owner: meta.owner,
    status: meta.status,
    createdAt: meta.createdAt,
    ...(meta.finishedAt !== undefined ? { finishedAt: meta.finishedAt } : {}),
    framework: meta.framework,
    testCommand: meta.testCommand,
    model: meta.model,
    concurrency: meta.concurrency,
    progress,
  };
}

function parseTargetState(raw: string): BatchTargetState | undefined {
  try {
    const parsed = batchTargetStateSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function corruptBatchBlob(key: string, detail: string): TernError {
  return new TernError({
    code: 'corrupt_blob',
    status: 500,
    retryable: false,
    message: `batch blob ${key} is corrupt: ${detail}`,
    details: { key },
  });
}
