import type { NewLogEntry } from '@tern/shared/session/log-entry';
import { describe, expect, it } from 'vitest';
import { recordingTool, turnHarness } from './turn-harness.ts';

const usage = { input: 10, output: 5, cached: 0, reasoning: 0, costUsd: 0.001 };

/** What a worker that died mid-step leaves: the user's message and an answer with two calls. */
const crashed = (...rest: NewLogEntry[]): NewLogEntry[] => [
  { kind: 'user_message', text: 'hello', inputSeq: 1 },
  {
    kind: 'assistant_message',
    model: 'scripted:m',
    text: '',
    reasoning: '',
    toolCalls: [
      { id: 'a', name: 'write', args: { n: 1 } },
      { id: 'b', name: 'read', args: { n: 2 } },
    ],
    finishReason: 'tool_calls',
    usage,
  },
  ...rest,
];

function resumeFrom(entries: NewLogEntry[], options: { writeIdempotent?: boolean } = {}) {
  const write = recordingTool('write', { idempotent: options.writeIdempotent ?? false });
  const read = recordingTool('read', { idempotent: true });
  const h = turnHarness([{ text: 'all done' }], [write.tool, read.tool]);
  h.seed(...entries);
  return { h, write: write.calls, read: read.calls };
}

describe('resuming a turn from the log', () => {
  it('reuses a finished tool result and runs only the calls that never started', async () => {
    const { h, write, read } = resumeFrom(
      crashed(
        { kind: 'tool_started', callId: 'a', name: 'write', args: { n: 1 } },
        {
          kind: 'tool_finished',
          callId: 'a',
          name: 'write',
          ok: true,
          output: 'wrote',
          durationMs: 3,
        },
      ),
    );
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'stop', steps: 2 });
    expect(write).toEqual([]);
    expect(read).toEqual([{ n: 2 }]);
    const tools = h.model.requests[0]!.messages.filter((m) => m.role === 'tool');
    expect(tools.map((m) => [m.toolCallId, m.content])).toEqual([
      ['a', 'wrote'],
      ['b', 'read ran with {"n":2}'],
    ]);
    expect(h.kinds().filter((k) => k === 'user_message')).toHaveLength(1);
  });

  it('tells the model a started call of a non-idempotent tool was interrupted, without re-running it', async () => {
    const { h, write, read } = resumeFrom(
      crashed(
        { kind: 'tool_started', callId: 'a', name: 'write', args: { n: 1 } },
        { kind: 'tool_started', callId: 'b', name: 'read', args: { n: 2 } },
      ),
    );
    await h.run();
    expect(write).toEqual([]);
    expect(read).toEqual([{ n: 2 }]);
    const [a, b] = h.finished();
    expect(a).toMatchObject({ callId: 'a', ok: false, notRun: 'interrupted' });
    expect(a!.output).toContain(
      'interrupted before it finished; not re-run because write is not idempotent',
    );
    expect(b).toMatchObject({ callId: 'b', ok: true });
    // The started call keeps its one `tool_started`; a re-run does not add another.
    expect(h.kinds().filter((k) => k === 'tool_started')).toHaveLength(2);
  });

  it('re-runs a started call of an idempotent tool with the arguments it started with', async () => {
    const { h, write } = resumeFrom(
      crashed({ kind: 'tool_started', callId: 'a', name: 'write', args: { n: 1, edited: true } }),
      { writeIdempotent: true },
    );
    await h.run();
    expect(write).toEqual([{ n: 1, edited: true }]);
    expect(h.finished().map((e) => [e.callId, e.ok])).toEqual([
      ['a', true],
      ['b', true],
    ]);
  });

  it('calls the model again when the previous attempt died before committing an answer', async () => {
    const { h } = resumeFrom([{ kind: 'user_message', text: 'hello', inputSeq: 1 }]);
    const outcome = await h.run({ resumed: true });
    expect(outcome.reason).toBe('stop');
    expect(h.kinds()).toEqual(['user_message', 'assistant_message']);
    const types = h.events.map((e) => e.type);
    expect(types.indexOf('stream_discarded')).toBeLessThan(types.indexOf('text_delta'));
    expect(h.model.requests[0]!.messages.at(-1)).toEqual({ role: 'user', content: 'hello' });
  });

  it('does nothing for a turn whose log already ends it', async () => {
    const { h } = resumeFrom([
      { kind: 'user_message', text: 'hello', inputSeq: 1 },
      { kind: 'error', code: 'max_cost', message: 'spent' },
    ]);
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'length', code: 'max_cost', state: 'done' });
    expect(h.model.requests).toHaveLength(0);
    expect(h.log).toHaveLength(2);
  });

  it('counts steps and usage of earlier attempts toward the turn’s limits', async () => {
    const { h } = resumeFrom(
      crashed(
        { kind: 'tool_finished', callId: 'a', name: 'write', ok: true, output: '', durationMs: 0 },
        { kind: 'tool_finished', callId: 'b', name: 'read', ok: true, output: '', durationMs: 0 },
      ),
    );
    const outcome = await h.run({ maxSteps: 1 });
    expect(outcome).toMatchObject({ reason: 'length', code: 'max_steps', steps: 1 });
    expect(outcome.usage.input).toBe(10);
    expect(h.model.requests).toHaveLength(0);
  });
});
