import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TernError } from '../errors/tern-error.ts';
import {
  type DoubleTexting,
  doubleTextingSchema,
  type PendingInput,
  type SessionSummary,
  sessionIdSchema,
} from '../protocol/api.ts';
import type { SessionEvent } from '../protocol/events.ts';
import { scripts } from '../redis/lua-script.ts';
import type { BlobStore } from './blob-store.ts';
import type { LogEntry } from './log-entry.ts';
import { encodeSegmentWithDigest } from './segment-codec.ts';
import { type SessionBudgets, sessionBudgetsSchema } from './session-budgets.ts';
import { blobKeys, redisKeys, segmentName } from './session-keys.ts';
import { type LogLoaderOptions, SessionLogLoader } from './session-log-loader.ts';
import { type MirrorOptions, SessionMirror } from './session-mirror.ts';
import { seedWorkspace, storeWorkspaceBase } from './workspace-store.ts';

export type Lease = { sessionId: string; token: string; epoch: number };

export type SessionMeta = {
  id: string;
  /** The user who owns it: its creator, forker or importer ('' for sessions from before users). */
  owner: string;
  title: string;
  model: string;
  systemPrompt: string;
  /** Simulator controls sent with the session's model calls, as JSON ('' for none). */
  sim: string;
  /** The session's approval policy, as JSON ('' for none). */
  approvals: string;
  /** The session's webhook hooks, as JSON ('' for none). */
  hooks: string;
  /** Per-session turn budgets as JSON (session-budgets.ts); '' or absent for the deployment's. */
  budgets?: string | undefined;
  /** What a message sent while the session is busy does. */
  doubleTexting: DoubleTexting;
  createdAt: number;
  updatedAt: number;
  status: SessionSummary['status'];
  lastSeq: number;
  inputSeq: number;
  doneInputSeq: number;
  /** The last input a runner began; a runner beginning it again resumes someone else's attempt. */
  startedInputSeq: number;
  epoch: number;
  /** The session this one was forked from, and the last seq it took from it. */
  forkedFrom?: { sessionId: string; seq: number } | undefined;
};

export type AppendedInput = { inputSeq: number; duplicate: boolean };

export type CommitResult = 'committed' | 'fenced' | 'conflict';

export class FencedError extends Error {
  override name = 'FencedError';
}

/** How logs are cached and read, and how the head is mirrored to the store (manifest, snapshots). */
export type SessionStoreOptions = LogLoaderOptions & MirrorOptions & { onCommit?: CommitObserver };

/** Sees every commit: how long it took (ms), the segment's size and how the head took it. */
export type CommitObserver = (commit: { ms: number; bytes: number; result: CommitResult }) => void;

/**
 * Sessions as stored: metadata, inputs, lease and head in Redis; log segments and workspace files
 * in the blob store. Shared by the API (create, read, append input) and workers (lease, commit,
 * publish). Keeps a bounded cache of loaded logs so a warm worker reads only new segments.
 */
export class SessionStore {
  readonly redis: Redis;
  readonly blobs: BlobStore;
  /** Writes manifests and snapshots after commits; `settled()` waits for them. */
  readonly mirror: SessionMirror;
  readonly #loader: SessionLogLoader;
  readonly #onCommit: CommitObserver | undefined;

  constructor(redis: Redis, blobs: BlobStore, options: SessionStoreOptions = {}) {
    this.redis = redis;
    this.blobs = blobs;
    this.#loader = new SessionLogLoader(redis, blobs, options);
    this.mirror = new SessionMirror(redis, blobs, this.#loader, options);
    this.#onCommit = options.onCommit;
  }

  static newSessionId(): string {
    return `ses_${randomBytes(15).toString('base64url').replace(/[-_]/g, 'x')}`;
  }

  /**
   * Creates a session. With an `id` (derived by the caller, e.g. a batch target's), creating it
   * again returns the existing session's meta unchanged, so a retried creator never resets a
   * session whose inputs have moved on; a deleted id is refused. The workspace starts from
   * `files`, or from `workspaceBase` (a tree held in the ancestors' workspace stores, shared like
   * a fork's, so creating costs one small blob whatever the workspace's size).
   */
  async create(init: {
    id?: string | undefined;
    owner?: string | undefined;
    title?: string | undefined;
    model: string;
    systemPrompt?: string | undefined;
    sim?: Record<string, unknown> | undefined;
    approvals?: Record<string, unknown> | undefined;
    hooks?: unknown[] | undefined;
    doubleTexting?: DoubleTexting | undefined;
    files?: Record<string, string> | undefined;
    workspaceBase?: { tree: string; ancestors: string[] } | undefined;
    budgets?: SessionBudgets | undefined;
  }): Promise<SessionMeta> {
    if (init.files && init.workspaceBase) {
      throw new Error('a session starts from files or from a workspace base, not both');
    }
    if (init.id !== undefined) {
      sessionIdSchema.parse(init.id);
      const existing = await this.meta(init.id);
      if (existing) return existing;
    }
    const id = init.id ?? SessionStore.newSessionId();
    const now = Date.now();
    const budgets = init.budgets ? sessionBudgetsSchema.parse(init.budgets) : undefined;
    const meta: SessionMeta = {
      id,
      owner: init.owner ?? '',
      title: init.title ?? 'New session',
      model: init.model,
      systemPrompt: init.systemPrompt ?? '',
      sim: init.sim ? JSON.stringify(init.sim) : '',
      approvals: init.approvals ? JSON.stringify(init.approvals) : '',
      hooks: init.hooks?.length ? JSON.stringify(init.hooks) : '',
      ...(budgets && Object.keys(budgets).length > 0 ? { budgets: JSON.stringify(budgets) } : {}),
      doubleTexting: init.doubleTexting ?? 'enqueue',
      createdAt: now,
      updatedAt: now,
      status: 'idle',
      lastSeq: 0,
      inputSeq: 0,
      doneInputSeq: 0,
      startedInputSeq: 0,
      epoch: 0,
    };
    // The workspace and the descriptor are stored before the session becomes visible in Redis.
    if (init.workspaceBase) {
      await storeWorkspaceBase(this.blobs, id, { version: 1, ...init.workspaceBase });
    } else {
      await seedWorkspace(
        this.blobs,
        id,
        Object.entries(init.files ?? {}).map(([path, content]) => ({
          path,
          bytes: Buffer.from(content),
        })),
      );
    }
    await this.blobs.put(blobKeys.meta(id), JSON.stringify(meta));
    const fields = Object.entries(meta).flatMap(([k, v]) =>
      v === undefined ? [] : [k, String(v)],
    );
    const created = (await scripts.createSession.run(
      this.redis,
      [
        redisKeys.meta(id),
        redisKeys.sessionIndex,
        redisKeys.ownerIndex(meta.owner),
        redisKeys.deleted(id),
      ],
      [id, now, meta.owner, ...fields],
    )) as number;
    if (created === 1) return meta;
    // Only a creation with a given id can meet an existing or deleted session.
    const existing = created === 0 ? await this.meta(id) : undefined;
    if (existing) return existing;
    throw new TernError({
      code: 'session_deleted',
      status: 409,
      message: `session ${id} was deleted; its id cannot be reused`,
    });
  }

  async meta(id: string): Promise<SessionMeta | undefined> {
    const raw = await this.redis.hgetall(redisKeys.meta(id));
    if (!raw.id) return undefined;
    return {
      id: raw.id,
      owner: raw.owner ?? '',
      title: raw.title ?? '',
      model: raw.model ?? '',
      systemPrompt: raw.systemPrompt ?? '',
      sim: raw.sim ?? '',
      approvals: raw.approvals ?? '',
      hooks: raw.hooks ?? '',
      ...(raw.budgets ? { budgets: raw.budgets } : {}),
      doubleTexting: doubleTextingSchema.catch('enqueue').parse(raw.doubleTexting),
      createdAt: Number(raw.createdAt),
      updatedAt: Number(raw.updatedAt),
      // Derived rather than stored alone: the final commit marks the input done atomically, so
      // a client reading right after the last event already sees the session idle.
      status:
        Number(raw.doneInputSeq ?? 0) >= Number(raw.inputSeq ?? 0)
          ? 'idle'
          : raw.status === 'running' || raw.status === 'awaiting_approval'
            ? raw.status
            : 'queued',
      lastSeq: Number(raw.lastSeq ?? 0),
      inputSeq: Number(raw.inputSeq ?? 0),
      doneInputSeq: Number(raw.doneInputSeq ?? 0),
      startedInputSeq: Number(raw.startedInputSeq ?? 0),
      epoch: Number(raw.epoch ?? 0),
      forkedFrom: raw.forkOf ? { sessionId: raw.forkOf, seq: Number(raw.forkSeq ?? 0) } : undefined,
    };
  }

  static summary(meta: SessionMeta): SessionSummary {
    return {
      id: meta.id,
      title: meta.title,
      model: meta.model,
      createdAt: meta.createdAt,
      updatedAt: meta.updatedAt,
      status: meta.status,
      lastSeq: meta.lastSeq,
      inputs: meta.inputSeq,
      doubleTexting: meta.doubleTexting,
      ...(meta.owner ? { owner: meta.owner } : {}),
      ...(meta.forkedFrom ? { forkedFrom: meta.forkedFrom } : {}),
    };
  }

  /**
   * Newest first; the cursor is an offset into the index: every session's, or one owner's
   * (`redisKeys.ownerIndex`).
   */
  async list(
    limit: number,
    cursor = 0,
    index: string = redisKeys.sessionIndex,
  ): Promise<{ sessions: SessionMeta[]; next: number | null }> {
    const ids = await this.redis.zrevrange(index, cursor, cursor + limit);
    const page = ids.slice(0, limit);
    const metas = await Promise.all(page.map((id) => this.meta(id)));
    return {
      sessions: metas.filter((m): m is SessionMeta => m !== undefined),
      next: ids.length > limit ? cursor + limit : null,
    };
  }

  /** The session's owner's user id; '' or `undefined` when it has none or does not exist. */
  async owner(id: string): Promise<string | undefined> {
    return (await this.redis.hget(redisKeys.meta(id), 'owner')) ?? undefined;
  }

  /** Updates title or model; `false` when the session does not exist. */
  async update(
    id: string,
    changes: { title?: string; model?: string; doubleTexting?: DoubleTexting },
  ): Promise<boolean> {
    const fields: Record<string, string | number> = { updatedAt: Date.now() };
    if (changes.title !== undefined) fields.title = changes.title;
    if (changes.model !== undefined) fields.model = changes.model;
    if (changes.doubleTexting !== undefined) fields.doubleTexting = changes.doubleTexting;
    // Only an existing session is updated: HSET alone would create a stray hash.
    const updated = (await this.redis.eval(
      "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], unpack(ARGV)) return 1",
      1,
      redisKeys.meta(id),
      ...Object.entries(fields).flat(),
    )) as number;
    return updated === 1;
  }

  /**
   * Appends a user input. With `ifIdle`, refuses it (`'busy'`) while an earlier input is
   * unfinished, atomically with the append. `undefined`: no such session.
   */
  appendInput(
    id: string,
    text: string,
    clientMessageId: string | undefined,
  ): Promise<AppendedInput | undefined>;
  appendInput(
    id: string,
    text: string,
    clientMessageId: string | undefined,
    options: { ifIdle: boolean },
  ): Promise<AppendedInput | 'busy' | undefined>;
  async appendInput(
    id: string,
    text: string,
    clientMessageId: string | undefined,
    options: { ifIdle?: boolean } = {},
  ): Promise<AppendedInput | 'busy' | undefined> {
    const now = Date.now();
    const [seq, duplicate] = (await scripts.appendInput.run(
      this.redis,
      [redisKeys.meta(id), redisKeys.inputs(id), redisKeys.clientIds(id)],
      [clientMessageId ?? '', JSON.stringify({ text, at: now }), now, options.ifIdle ? '1' : '0'],
    )) as [number, number];
    if (seq === 0) return undefined;
    if (seq === -1) return 'busy';
    return { inputSeq: seq, duplicate: duplicate === 1 };
  }

  /** The session's double-texting policy; `undefined` when the session does not exist. */
  async doubleTexting(id: string): Promise<DoubleTexting | undefined> {
    const [exists, policy] = await this.redis.hmget(redisKeys.meta(id), 'id', 'doubleTexting');
    if (!exists) return undefined;
    return doubleTextingSchema.catch('enqueue').parse(policy);
  }

  /**
   * Hands a message to the running turn (delivered at its next step boundary). Returns the
   * running input's seq, `0` when no turn runs (append it as an input instead), or `undefined`
   * when the session does not exist.
   */
  async steer(id: string, text: string): Promise<number | undefined> {
    const result = (await scripts.steerInput.run(
      this.redis,
      [redisKeys.meta(id), redisKeys.steering(id)],
      [JSON.stringify({ text, at: Date.now() })],
    )) as number;
    return result === -1 ? undefined : result;
  }

  /** Steering messages waiting for the running turn, each returned once. */
  async takeSteering(id: string): Promise<string[]> {
    const raw = (await scripts.takeSteering.run(
      this.redis,
      [redisKeys.steering(id)],
      [],
    )) as string[];
    return raw.map((m) => (JSON.parse(m) as { text: string }).text);
  }

  /** Steering messages left after their turn ended become ordinary inputs; returns how many. */
  async requeueSteering(id: string): Promise<number> {
    return (await scripts.requeueSteering.run(
      this.redis,
      [redisKeys.meta(id), redisKeys.inputs(id), redisKeys.steering(id)],
      [],
    )) as number;
  }

  async input(id: string, inputSeq: number): Promise<PendingInput | undefined> {
    const raw = await this.redis.hget(redisKeys.inputs(id), String(inputSeq));
    if (!raw) return undefined;
    const { text, at } = JSON.parse(raw) as { text: string; at: number };
    return { inputSeq, turnId: turnIdFor(id, inputSeq), text, at };
  }

  async pendingInputs(meta: SessionMeta): Promise<PendingInput[]> {
    const seqs: number[] = [];
    for (let s = meta.doneInputSeq + 1; s <= meta.inputSeq; s++) seqs.push(s);
    const inputs = await Promise.all(seqs.map((s) => this.input(meta.id, s)));
    return inputs.filter((i): i is PendingInput => i !== undefined);
  }

  /**
   * The whole committed log, reading only segments this process has not seen yet; a cold read
   * takes the snapshot packs plus the segments after them (session-log-loader.ts).
   */
  async entries(id: string): Promise<LogEntry[]> {
    return (await this.#loader.load(id)).entries;
  }

  /**
   * Asks for the session's current (or next queued) turn to be cancelled. The request is kept in
   * a key, for a worker that has not started the turn yet, and announced on a channel, for the one
   * running it. Returns the turn id, or `null` when nothing is running or queued.
   */
  async requestCancel(id: string): Promise<string | null | undefined> {
    const meta = await this.meta(id);
    if (!meta) return undefined;
    if (meta.doneInputSeq >= meta.inputSeq) return null;
    const turnId = turnIdFor(id, meta.doneInputSeq + 1);
    await this.redis
      .multi()
      .set(redisKeys.cancel(id), turnId, 'EX', 3600)
      .publish(redisKeys.cancelChannel, `${id} ${turnId}`)
      .exec();
    return turnId;
  }

  async cancelRequested(id: string, turnId: string): Promise<boolean> {
    return (await this.redis.get(redisKeys.cancel(id))) === turnId;
  }

  async clearCancel(id: string, turnId: string): Promise<void> {
    await this.redis.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      redisKeys.cancel(id),
      turnId,
    );
  }

  /**
   * Records a human's decision on a pending tool call, once: a second, different decision is
   * refused. The worker that resumes the turn writes it to the log.
   */
  async recordDecision(
    id: string,
    callId: string,
    decision: {
      decision: 'approve' | 'deny';
      args?: Record<string, unknown>;
      reason?: string;
      by: string;
    },
  ): Promise<'recorded' | 'same' | 'conflict'> {
    const json = JSON.stringify(decision);
    const set = await this.redis.hsetnx(redisKeys.decisions(id), callId, json);
    if (set === 1) return 'recorded';
    const existing = await this.redis.hget(redisKeys.decisions(id), callId);
    const previous = existing ? (JSON.parse(existing) as { decision: string }) : undefined;
    return previous?.decision === decision.decision ? 'same' : 'conflict';
  }

  async decisions(
    id: string,
  ): Promise<
    Map<
      string,
      { decision: 'approve' | 'deny'; args?: Record<string, unknown>; reason?: string; by: string }
    >
  > {
    const raw = await this.redis.hgetall(redisKeys.decisions(id));
    return new Map(Object.entries(raw).map(([k, v]) => [k, JSON.parse(v)]));
  }

  /**
   * Records that the lease holder began `inputSeq`, before it publishes anything of it: a later
   * runner of the same input then knows watchers may hold a half-streamed answer to discard,
   * even when the first attempt died before committing a single entry.
   */
  async markStarted(lease: Lease, inputSeq: number): Promise<void> {
    await this.redis.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('HSET', KEYS[2], 'startedInputSeq', ARGV[2]) end return 0",
      2,
      redisKeys.lease(lease.sessionId),
      redisKeys.meta(lease.sessionId),
      lease.token,
      inputSeq,
    );
  }

  async setStatus(lease: Lease, status: 'awaiting_approval' | 'running'): Promise<void> {
    await this.redis.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('HSET', KEYS[2], 'status', ARGV[2]) end return 0",
      2,
      redisKeys.lease(lease.sessionId),
      redisKeys.meta(lease.sessionId),
      lease.token,
      status,
    );
  }

  async lastEventId(id: string): Promise<string> {
    const last = await this.redis.xrevrange(redisKeys.events(id), '+', '-', 'COUNT', 1);
    return last[0]?.[0] ?? '0-0';
  }

  async acquireLease(
    id: string,
    owner: string,
    ttlMs: number,
  ): Promise<Lease | 'held' | 'missing'> {
    const [epoch, token] = (await scripts.acquireLease.run(
      this.redis,
      [redisKeys.lease(id), redisKeys.meta(id)],
      [owner, ttlMs],
    )) as [number, string];
    if (epoch === -1) return 'missing';
    if (epoch === 0) return 'held';
    return { sessionId: id, token, epoch };
  }

  async renewLease(lease: Lease, ttlMs: number): Promise<boolean> {
    const ok = await scripts.renewLease.run(
      this.redis,
      [redisKeys.lease(lease.sessionId)],
      [lease.token, ttlMs],
    );
    return ok === 1;
  }

  async releaseLease(lease: Lease): Promise<void> {
    await scripts.releaseLease.run(
      this.redis,
      [redisKeys.lease(lease.sessionId), redisKeys.meta(lease.sessionId)],
      [lease.token],
    );
  }

  /**
   * Stores the entries as one immutable segment, then advances the head. The segment write comes
   * first: a crash between the two leaves an orphan blob, never a head pointing at nothing.
   */
  async commit(
    lease: Lease,
    expectedLastSeq: number,
    entries: LogEntry[],
    completesInputSeq?: number,
  ): Promise<CommitResult> {
    const id = lease.sessionId;
    const first = entries[0]?.seq;
    const last = entries.at(-1)?.seq;
    if (first === undefined || last === undefined) return 'committed';
    const started = performance.now();
    const { text, sha256 } = encodeSegmentWithDigest(entries);
    // Stamped with the epoch and content hash: no other writer can ever produce this key.
    const stamp = { epoch: lease.epoch, sha256 };
    await this.blobs.put(blobKeys.segment(id, first, last, stamp), text);
    const result = await scripts.commitHead.run(
      this.redis,
      [redisKeys.lease(id), redisKeys.meta(id), redisKeys.segments(id)],
      [
        lease.token,
        expectedLastSeq,
        last,
        segmentName(first, last, stamp),
        completesInputSeq ?? '',
        Date.now(),
      ],
    );
    this.#onCommit?.({
      ms: performance.now() - started,
      bytes: Buffer.byteLength(text),
      result: result === -1 ? 'fenced' : result === -2 ? 'conflict' : 'committed',
    });
    if (result === -1) {
      // Fenced by a deletion (it takes the lease with the session): the segment just written
      // belongs to nothing and may have landed after the deletion removed the session's blobs.
      const key = blobKeys.segment(id, first, last, stamp);
      if ((await this.redis.exists(redisKeys.meta(id))) === 0) await this.blobs.deletePrefix(key);
      return 'fenced';
    }
    if (result === -2) return 'conflict';
    this.#loader.appended(id, expectedLastSeq, entries);
    this.mirror.afterCommit(id);
    return 'committed';
  }

  /** Appends events to the session's stream; `undefined` when the lease was lost. */
  async publish(
    lease: Lease,
    events: SessionEvent[],
    maxLen: number,
  ): Promise<string[] | undefined> {
    if (events.length === 0) return [];
    const ids = await scripts.publishEvents.run(
      this.redis,
      [redisKeys.lease(lease.sessionId), redisKeys.events(lease.sessionId)],
      [lease.token, maxLen, ...events.map((e) => JSON.stringify(e))],
    );
    return ids === null ? undefined : (ids as string[]);
  }
}

/** Turn ids derive from the session and input sequence: a retried job maps to the same turn. */
export const turnIdFor = (sessionId: string, inputSeq: number) => `${sessionId}-t${inputSeq}`;
