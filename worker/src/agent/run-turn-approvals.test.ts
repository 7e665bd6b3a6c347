import { describe, expect, it } from 'vitest';
import { approvalPolicySchema } from './approval-policy.ts';
import { recordingTool, turnHarness } from './turn-harness.ts';

const approvals = approvalPolicySchema.parse({
  rules: [{ tool: 'bash', match: { command: 'rm\\s+-rf' }, action: 'ask' }],
});

const bashSchema = {
  type: 'object',
  properties: { command: { type: 'string' } },
  required: ['command'],
  additionalProperties: false,
};

function setup() {
  const bash = recordingTool('bash', { parameters: bashSchema, idempotent: false });
  const read = recordingTool('read');
  const h = turnHarness(
    [
      {
        calls: [
          { id: 'r1', name: 'read', args: { path: 'a' } },
          { id: 'b1', name: 'bash', args: { command: 'rm -rf build' } },
        ],
      },
      { text: 'cleaned' },
    ],
    [bash.tool, read.tool],
    { input: { approvals } },
  );
  return { h, bash: bash.calls, read: read.calls };
}

describe('approvals', () => {
  it('pauses on `ask` with the request committed, running nothing of that response', async () => {
    const { h, bash, read } = setup();
    const outcome = await h.run();
    expect(outcome).toMatchObject({
      reason: 'awaiting_approval',
      state: 'awaiting_approval',
      pending: ['b1'],
    });
    expect(h.kinds()).toEqual(['user_message', 'assistant_message', 'approval_requested']);
    expect(h.log.at(-1)).toMatchObject({
      callId: 'b1',
      tool: 'bash',
      args: { command: 'rm -rf build' },
      reason: 'bash: command matches /rm\\s+-rf/',
    });
    expect(h.finals).toEqual([]);
    expect(bash).toEqual([]);
    expect(read).toEqual([]);
    expect(h.states().at(-1)).toBe('streaming>awaiting_approval');
    expect(h.events.at(-1)).toMatchObject({ type: 'turn_paused', pending: ['b1'] });
    expect(h.events.some((e) => e.type === 'turn_finished')).toBe(false);
  });

  it('asks only once when resumed before the decision', async () => {
    const { h } = setup();
    await h.run();
    const again = await h.run();
    expect(again.reason).toBe('awaiting_approval');
    expect(h.kinds().filter((k) => k === 'approval_requested')).toHaveLength(1);
  });

  it('runs an approved call with the edited arguments, telling the model', async () => {
    const { h, bash, read } = setup();
    await h.run();
    h.seed({
      kind: 'approval_decided',
      callId: 'b1',
      decision: 'approve',
      args: { command: 'rm -rf build/tmp' },
      by: 'alice',
    });
    const events = h.events.length;
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'stop', state: 'done' });
    expect(bash).toEqual([{ command: 'rm -rf build/tmp' }]);
    expect(read).toEqual([{ path: 'a' }]);
    expect(h.log.find((e) => e.kind === 'tool_started' && e.callId === 'b1')).toMatchObject({
      args: { command: 'rm -rf build/tmp' },
    });
    expect(h.finished().map((e) => e.callId)).toEqual(['r1', 'b1']);
    expect(h.finished()[1]!.output).toContain('alice edited the arguments');
    const states = h.events
      .slice(events)
      .flatMap((e) => (e.type === 'turn_state' ? [`${e.from}>${e.to}`] : []));
    expect(states[0]).toBe('awaiting_approval>running_tools');
    expect(h.finals).toHaveLength(1);
  });

  it('refuses edited arguments that do not match the tool’s schema', async () => {
    const { h, bash } = setup();
    await h.run();
    h.seed({
      kind: 'approval_decided',
      callId: 'b1',
      decision: 'approve',
      args: { cmd: 'ls' },
      by: 'alice',
    });
    await h.run();
    expect(bash).toEqual([]);
    expect(h.finished()[1]).toMatchObject({ ok: false, notRun: 'approval' });
    expect(h.finished()[1]!.output).toContain('arguments alice edited are invalid');
  });

  it('answers a denied call with who denied it and why', async () => {
    const { h, bash, read } = setup();
    await h.run();
    h.seed({
      kind: 'approval_decided',
      callId: 'b1',
      decision: 'deny',
      by: 'bob',
      reason: 'keep the build',
    });
    const outcome = await h.run();
    expect(outcome.reason).toBe('stop');
    expect(bash).toEqual([]);
    expect(read).toHaveLength(1);
    expect(h.finished()[1]).toMatchObject({
      callId: 'b1',
      ok: false,
      notRun: 'approval',
      output: 'Not run: denied by bob: keep the build',
    });
  });

  it('denies by policy without asking', async () => {
    const bash = recordingTool('bash');
    const h = turnHarness(
      [{ calls: [{ id: 'b1', name: 'bash', args: { command: 'ls' } }] }, { text: 'ok' }],
      [bash.tool],
      { input: { approvals: approvalPolicySchema.parse({ default: 'deny' }) } },
    );
    await h.run();
    expect(bash.calls).toEqual([]);
    expect(h.finished()[0]).toMatchObject({ notRun: 'policy' });
    expect(h.finished()[0]!.output).toBe('Not run: denied by policy (the default policy)');
  });
});
