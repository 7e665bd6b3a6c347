import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/lua-script.ts';
import type { BlobStore } from '../session/blob-store.ts';
import { redisKeys } from '../session/session-keys.ts';
import type { SessionStore } from '../session/session-store.ts';
import { toolProposalIdFor } from './tool-proposal-id.ts';
import { toolProposalKeys as keys } from './tool-proposal-keys.ts';
import {
  MAX_TOOL_PROPOSALS_PER_SESSION,
  type ToolDefinition,
  type ToolProposal,
  type ToolProposalInput,
  toolDefinitionSchema,
  toolProposalStatusSchema,
} from './tool-proposal-schema.ts';

const proposeScript = new LuaScript('propose-tool-4.lua');
const decideScript = new LuaScript('decide-tool-proposal-2.lua');

export type ProposeResult =
  | { kind: 'created' | 'existing'; proposal: ToolProposal }
  | { kind: 'session_missing' }
  | { kind: 'limit_reached'; limit: number }
  | { kind: 'name_taken'; holder: string };

export type Decision = { approve: boolean; by: string; reason?: string | undefined };

export type DecideResult =
  | { kind: 'decided' | 'unchanged'; proposal: ToolProposal }
  | { kind: 'not_found' }
  | { kind: 'already_decided'; proposal: ToolProposal }
  | { kind: 'name_taken'; holder: string };

/** An approved tool, as later turns register it. */
export type ApprovedTool = { id: string; definition: ToolDefinition };

const DEFINITION_CACHE_LIMIT = 500;

/**
 * A session's tool proposals: review state in Redis (one hash per proposal, an index by time,
 * the approved names), definitions (code and schema) as content-addressed blobs. Used by workers
 * (propose, load the approved tools) and the API (list, decide).
 */
export class ToolProposalStore {
  readonly #redis: Redis;
  readonly #blobs: BlobStore;
  readonly #limit: number;
  /** Definitions by blob key. Content-addressed, so an entry never goes stale. */
  readonly #definitions = new Map<string, ToolDefinition>();

  constructor(redis: Redis, blobs: BlobStore, options: { limit?: number } = {}) {
    this.#redis = redis;
    this.#blobs = blobs;
    this.#limit = options.limit ?? MAX_TOOL_PROPOSALS_PER_SESSION;
  }

  /** The store over a session store's Redis and blobs, one per session store. */
  static of(sessions: SessionStore): ToolProposalStore {
    let store = perSessionStore.get(sessions);
    if (!store) {
      store = new ToolProposalStore(sessions.redis, sessions.blobs);
      perSessionStore.set(sessions, store);
    }
    return store;
  }

  /** Records a checked proposal as pending; proposing the same definition again finds it. */
  async propose(sessionId: string, input: ToolProposalInput, now: number): Promise<ProposeResult> {
    const { reason, ...definition } = input;
    const id = toolProposalIdFor(definition);
    const blobKey = keys.definition(sessionId, id);
    // A model that keeps proposing past the limit must not keep writing blobs nobody will read;
    // the script below still decides, this only spares the write when it would refuse anyway.
    const replies = await this.#redis
      .multi()
      .exists(keys.proposal(sessionId, id))
      .zcard(keys.index(sessionId))
      .hget(keys.approved(sessionId), definition.name)
      .exec();
    const [exists, count, holder] = (replies ?? []).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    if (exists === 0) {
      if (typeof holder === 'string') return { kind: 'name_taken', holder };
      if (Number(count) >= this.#limit) return { kind: 'limit_reached', limit: this.#limit };
      // Blob first, as with log segments: a crash in between leaves an orphan, never an id
      // without its definition. Content-addressed, so a concurrent identical write is harmless.
      await this.#blobs.put(blobKey, JSON.stringify(definition));
      this.#remember(blobKey, definition);
    }
    const [code, detail] = (await proposeScript.run(
      this.#redis,
      [
        redisKeys.meta(sessionId),
        keys.index(sessionId),
        keys.proposal(sessionId, id),
        keys.approved(sessionId),
      ],
      [id, definition.name, now, this.#limit, reason],
    )) as [number, string];
    if (code === -1) return { kind: 'session_missing' };
    if (code === -2) return { kind: 'limit_reached', limit: this.#limit };
    if (code === -3) return { kind: 'name_taken', holder: detail };
    const proposal = await this.get(sessionId, id);
    if (!proposal) throw new Error(`tool proposal ${id} of ${sessionId} vanished after recording`);
    return { kind: code === 1 ? 'created' : 'existing', proposal };
  }

  async get(sessionId: string, proposalId: string): Promise<ToolProposal | undefined> {
    const state = await this.#redis.hgetall(keys.proposal(sessionId, proposalId));
    if (!state.id) return undefined;
    return this.#assemble(sessionId, state);
  }

  /** Oldest first. */
  async list(sessionId: string): Promise<ToolProposal[]> {
    const ids = await this.#redis.zrange(keys.index(sessionId), '0', '-1');
    if (ids.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const id of ids) pipeline.hgetall(keys.proposal(sessionId, id));
    const states = ((await pipeline.exec()) ?? []).map(([error, state]) => {
      if (error) throw error;
      return state as Record<string, string>;
    });
    return Promise.all(
      states.filter((s) => s.id !== undefined).map((s) => this.#assemble(sessionId, s)),
    );
  }

  async decide(
    sessionId: string,
    proposalId: string,
    decision: Decision,
    now: number,
  ): Promise<DecideResult> {
    const [code, detail] = (await decideScript.run(
      this.#redis,
      [keys.proposal(sessionId, proposalId), keys.approved(sessionId)],
      [decision.approve ? 'approved' : 'rejected', decision.by, now, decision.reason ?? ''],
    )) as [number, string];
    if (code === -1) return { kind: 'not_found' };
    if (code === -3) return { kind: 'name_taken', holder: detail };
    const proposal = await this.get(sessionId, proposalId);
    if (!proposal) return { kind: 'not_found' };
    if (code === -2) return { kind: 'already_decided', proposal };
    return { kind: code === 1 ? 'decided' : 'unchanged', proposal };
  }

  /** The session's approved tools: one Redis read, then definitions mostly from the cache. */
  async approved(sessionId: string): Promise<ApprovedTool[]> {
    const byName = await this.#redis.hgetall(keys.approved(sessionId));
    const ids = Object.values(byName).sort();
    return Promise.all(
      ids.map(async (id) => ({ id, definition: await this.#definition(sessionId, id) })),
    );
  }

  async #assemble(sessionId: string, state: Record<string, string>): Promise<ToolProposal> {
    const id = state.id ?? '';
    const definition = await this.#definition(sessionId, id);
    const decided = state.decidedAt !== undefined;
    return {
      id,
      sessionId,
      ...definition,
      reason: state.reason ?? '',
      status: toolProposalStatusSchema.parse(state.status),
      proposedAt: Number(state.proposedAt),
      decidedAt: decided ? Number(state.decidedAt) : null,
      decidedBy: decided ? (state.decidedBy ?? null) : null,
      decisionReason: state.decisionReason ? state.decisionReason : null,
    };
  }

  async #definition(sessionId: string, id: string): Promise<ToolDefinition> {
    const key = keys.definition(sessionId, id);
    const cached = this.#definitions.get(key);
    if (cached) return cached;
    const bytes = await this.#blobs.get(key);
    if (!bytes) throw new Error(`tool proposal ${id} of ${sessionId}: ${key} is missing`);
    // Read back through the schema: the blob store is outside this process's control.
    const definition = toolDefinitionSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
    this.#remember(key, definition);
    return definition;
  }

  #remember(key: string, definition: ToolDefinition): void {
    this.#definitions.delete(key);
    this.#definitions.set(key, definition);
    if (this.#definitions.size > DEFINITION_CACHE_LIMIT) {
      const oldest = this.#definitions.keys().next().value;
      if (oldest !== undefined) this.#definitions.delete(oldest);
    }
  }
}

/** Keyed by instance, so each process's session store shares one definition cache. */
const perSessionStore = new WeakMap<SessionStore, ToolProposalStore>();
