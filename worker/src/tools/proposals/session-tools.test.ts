import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore } from '@tern/shared/session/file-blob-store';
import { SessionStore } from '@tern/shared/session/session-store';
import { ToolProposalStore } from '@tern/shared/tools/tool-proposal-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../../../../test/helpers/redis-server.ts';
import { DEFAULT_SANDBOX_POLICY, type SandboxPolicy } from '../sandbox/sandbox-types.ts';
import { sessionTools } from './session-tools.ts';

let redis: TestRedis;
let dir: string;
let store: SessionStore;

beforeAll(async () => {
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'tern-session-tools-'));
  store = new SessionStore(redis.client, new FileBlobStore(dir));
});

afterAll(async () => {
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

const proposal = (name: string, code = 'print(1)') => ({
  name,
  description: `The ${name} tool`,
  parameters: { type: 'object', properties: {} },
  runtime: 'python',
  code,
  reason: 'needed',
});

const toolsOf = (
  sessionId: string,
  sandbox: SandboxPolicy | 'unavailable' = DEFAULT_SANDBOX_POLICY,
) => sessionTools({ store, sessionId, workspace: () => dir, sandbox });

const propose = async (sessionId: string, args: Record<string, unknown>) => {
  const tools = await toolsOf(sessionId);
  const tool = tools.get('propose_tool')!;
  return tool.execute(args, { signal: new AbortController().signal, sessionId });
};

const newSession = async () => (await store.create({ model: 'openai:tern-sim' })).id;
const idIn = (output: string) => /\(id (tp_[0-9a-f]{32})\)/.exec(output)?.[1] ?? '';

describe('propose_tool', () => {
  it('stores a proposal as pending and tells the model it waits for review', async () => {
    const sessionId = await newSession();
    const result = await propose(sessionId, proposal('word_count'));
    expect(result.ok).toBe(true);
    expect(result.output).toMatch(
      /^Proposed word_count; waiting for review \(id tp_[0-9a-f]{32}\)\. It will be available after a human approves it/,
    );
    const stored = await ToolProposalStore.of(store).list(sessionId);
    expect(stored).toMatchObject([
      { id: idIn(result.output), name: 'word_count', status: 'pending' },
    ]);
  });

  it('answers the same proposal with the same id', async () => {
    const sessionId = await newSession();
    const first = await propose(sessionId, proposal('word_count'));
    const again = await propose(sessionId, { ...proposal('word_count'), reason: 'still needed' });
    expect(again).toEqual({
      ok: true,
      output: `word_count was already proposed and is still waiting for review (id ${idIn(first.output)}).`,
    });
  });

  it('lists every problem of an unusable proposal and stores nothing', async () => {
    const sessionId = await newSession();
    const result = await propose(sessionId, {
      ...proposal('bash'),
      parameters: { type: 'object', properties: { a: { type: 'text' } } },
    });
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/^The proposal was not stored:\n- name: bash is a built-in tool/);
    expect(result.output).toContain('- parameters: not a valid JSON Schema');
    expect(await ToolProposalStore.of(store).list(sessionId)).toEqual([]);
  });

  it('says when this deployment cannot run proposed tools', async () => {
    const sessionId = await newSession();
    for (const sandbox of ['unavailable', { ...DEFAULT_SANDBOX_POLICY, unsafeNoSandbox: true }]) {
      const tools = await toolsOf(sessionId, sandbox as SandboxPolicy | 'unavailable');
      expect(tools.get('propose_tool')?.spec.description).toContain(
        'this deployment has no sandbox, so proposed tools cannot run here',
      );
    }
  });
});

describe('sessionTools', () => {
  it('offers the built-ins, propose_tool, and approved proposals only', async () => {
    const sessionId = await newSession();
    const ids: Record<string, string> = {};
    for (const name of ['approved_tool', 'rejected_tool', 'pending_tool']) {
      ids[name] = idIn((await propose(sessionId, proposal(name))).output);
    }
    const proposals = ToolProposalStore.of(store);
    await proposals.decide(sessionId, ids.approved_tool!, { approve: true, by: 'a' }, 1);
    await proposals.decide(sessionId, ids.rejected_tool!, { approve: false, by: 'a' }, 1);

    const tools = await toolsOf(sessionId);
    expect([...tools.keys()]).toEqual([
      'read_file',
      'list_files',
      'write_file',
      'edit_file',
      'glob',
      'grep',
      'bash',
      'propose_tool',
      'approved_tool',
    ]);
    expect(tools.get('approved_tool')).toMatchObject({
      spec: {
        name: 'approved_tool',
        description: 'The approved_tool tool',
        parameters: { type: 'object', properties: {} },
      },
      idempotent: false,
      concurrency: 'exclusive',
    });
    // Other sessions do not see it.
    expect((await toolsOf(await newSession())).has('approved_tool')).toBe(false);
  });

  it('offers no proposed tool where it could not run isolated', async () => {
    const sessionId = await newSession();
    const id = idIn((await propose(sessionId, proposal('approved_tool'))).output);
    await ToolProposalStore.of(store).decide(sessionId, id, { approve: true, by: 'a' }, 1);
    expect((await toolsOf(sessionId)).has('approved_tool')).toBe(true);
    expect((await toolsOf(sessionId, 'unavailable')).has('approved_tool')).toBe(false);
    const unsafe = { ...DEFAULT_SANDBOX_POLICY, unsafeNoSandbox: true };
    expect((await toolsOf(sessionId, unsafe)).has('approved_tool')).toBe(false);
  });
});
