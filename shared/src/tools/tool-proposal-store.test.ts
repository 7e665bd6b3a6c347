import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../test/helpers/redis-server.ts';
import { FileBlobStore } from '../session/file-blob-store.ts';
import { SessionStore } from '../session/session-store.ts';
import { toolProposalKeys } from './tool-proposal-keys.ts';
import type { ToolProposalInput } from './tool-proposal-schema.ts';
import { ToolProposalStore } from './tool-proposal-store.ts';

let redis: TestRedis;
let dir: string;
let sessions: SessionStore;
let proposals: ToolProposalStore;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'tern-proposals-'));
  sessions = new SessionStore(redis.client, new FileBlobStore(dir));
  proposals = new ToolProposalStore(redis.client, sessions.blobs, { limit: 3 });
});

afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const input = (changes: Partial<ToolProposalInput> = {}): ToolProposalInput => ({
  name: 'word_count',
  description: 'Counts words',
  parameters: { type: 'object', properties: { text: { type: 'string' } } },
  runtime: 'python',
  code: 'import json,sys; print(len(json.load(sys.stdin)["text"].split()))',
  reason: 'handy',
  ...changes,
});

const newSession = async () => (await sessions.create({ model: 'openai:tern-sim' })).id;

describe('ToolProposalStore', () => {
  it('stores a proposal as pending: review state in Redis, code and schema as a blob', async () => {
    const sessionId = await newSession();
    const result = await proposals.propose(sessionId, input(), 1_000);
    expect(result.kind).toBe('created');
    if (result.kind !== 'created') return;
    const { proposal } = result;
    expect(proposal).toEqual({
      id: expect.stringMatching(/^tp_[0-9a-f]{32}$/),
      sessionId,
      ...input(),
      status: 'pending',
      proposedAt: 1_000,
      decidedAt: null,
      decidedBy: null,
      decisionReason: null,
    });
    const blob = await sessions.blobs.get(toolProposalKeys.definition(sessionId, proposal.id));
    const { reason: _reason, ...definition } = input();
    expect(JSON.parse(new TextDecoder().decode(blob))).toEqual(definition);
    expect(await redis.client.zrange(toolProposalKeys.index(sessionId), '0', '-1')).toEqual([
      proposal.id,
    ]);
    // Another process (the API) reads the same proposal from storage alone.
    const fresh = new ToolProposalStore(redis.client, new FileBlobStore(dir));
    expect(await fresh.get(sessionId, proposal.id)).toEqual(proposal);
    expect(await fresh.list(sessionId)).toEqual([proposal]);
  });

  it('finds the first proposal when the same definition is proposed again', async () => {
    const sessionId = await newSession();
    const first = await proposals.propose(sessionId, input(), 1_000);
    const again = await proposals.propose(sessionId, input({ reason: 'other words' }), 2_000);
    expect(again.kind).toBe('existing');
    if (first.kind !== 'created' || again.kind !== 'existing') return;
    expect(again.proposal).toEqual(first.proposal);
    expect(await proposals.list(sessionId)).toHaveLength(1);
  });

  it('keeps sessions apart and refuses sessions that do not exist', async () => {
    const [a, b] = [await newSession(), await newSession()];
    await proposals.propose(a, input(), 1_000);
    expect(await proposals.list(b)).toEqual([]);
    expect(await proposals.propose('ses_missing000', input(), 1_000)).toEqual({
      kind: 'session_missing',
    });
  });

  it('holds at most the configured number of proposals per session', async () => {
    const sessionId = await newSession();
    for (const n of [1, 2, 3]) {
      const result = await proposals.propose(sessionId, input({ name: `tool_${n}` }), n);
      expect(result.kind).toBe('created');
    }
    expect(await proposals.propose(sessionId, input({ name: 'tool_4' }), 4)).toEqual({
      kind: 'limit_reached',
      limit: 3,
    });
    // A repeat of a stored proposal is still answered.
    expect((await proposals.propose(sessionId, input({ name: 'tool_1' }), 5)).kind).toBe(
      'existing',
    );
    expect((await proposals.list(sessionId)).map((p) => p.name)).toEqual([
      'tool_1',
      'tool_2',
      'tool_3',
    ]);
  });

  it('records a decision once: the same answer again is unchanged, the other is refused', async () => {
    const sessionId = await newSession();
    const created = await proposals.propose(sessionId, input(), 1_000);
    if (created.kind !== 'created') throw new Error(created.kind);
    const id = created.proposal.id;
    const approve = { approve: true, by: 'alice', reason: 'looks safe' };
    const decided = await proposals.decide(sessionId, id, approve, 2_000);
    expect(decided).toMatchObject({
      kind: 'decided',
      proposal: {
        status: 'approved',
        decidedBy: 'alice',
        decidedAt: 2_000,
        decisionReason: 'looks safe',
      },
    });
    expect(await proposals.decide(sessionId, id, { ...approve, by: 'bob' }, 3_000)).toMatchObject({
      kind: 'unchanged',
      proposal: { status: 'approved', decidedBy: 'alice', decidedAt: 2_000 },
    });
    expect(
      await proposals.decide(sessionId, id, { approve: false, by: 'bob' }, 3_000),
    ).toMatchObject({ kind: 'already_decided', proposal: { status: 'approved' } });
    expect(await proposals.decide(sessionId, 'tp_nope', approve, 3_000)).toEqual({
      kind: 'not_found',
    });
  });

  it('lists only approved proposals as the session tools, one per name', async () => {
    const sessionId = await newSession();
    const ids: string[] = [];
    for (const changes of [{}, { code: 'print(0)' }, { name: 'other_tool' }]) {
      const result = await proposals.propose(sessionId, input(changes), 1_000);
      if (result.kind !== 'created') throw new Error(result.kind);
      ids.push(result.proposal.id);
    }
    const [first, revision, other] = ids as [string, string, string];
    expect(await proposals.approved(sessionId)).toEqual([]);
    await proposals.decide(sessionId, first, { approve: true, by: 'a' }, 2_000);
    await proposals.decide(sessionId, other, { approve: false, by: 'a' }, 2_000);
    // Two approved tools may not share a name: the model would not know which one it calls.
    expect(await proposals.decide(sessionId, revision, { approve: true, by: 'a' }, 2_000)).toEqual({
      kind: 'name_taken',
      holder: first,
    });
    expect((await proposals.get(sessionId, revision))?.status).toBe('pending');
    const { reason: _reason, ...definition } = input();
    expect(await proposals.approved(sessionId)).toEqual([{ id: first, definition }]);
    // Proposing under an approved tool's name is refused up front.
    expect(await proposals.propose(sessionId, input({ code: 'print(1)' }), 3_000)).toEqual({
      kind: 'name_taken',
      holder: first,
    });
  });

  it('reuses one store per session store', () => {
    expect(ToolProposalStore.of(sessions)).toBe(ToolProposalStore.of(sessions));
  });
});
