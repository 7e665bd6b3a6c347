import { describe, expect, it } from 'vitest';
import type { AgentTool } from './agent-types.ts';
import type { ScriptedStep } from './scripted-model.ts';
import { turnHarness } from './turn-harness.ts';

const harness = (steps: ScriptedStep[], tools: AgentTool[] = []) => turnHarness(steps, tools);

const concurrency = { active: 0, max: 0 };

const sleepTool = (name: string, ms: number, output = name): AgentTool => ({
  spec: { name, description: name, parameters: { type: 'object' } },
  idempotent: true,
  execute: async () => {
    concurrency.active += 1;
    concurrency.max = Math.max(concurrency.max, concurrency.active);
    await new Promise((r) => setTimeout(r, ms));
    concurrency.active -= 1;
    return { ok: true, output };
  },
});

describe('runTurn', () => {
  it('commits the user message and a final answer, streaming its deltas', async () => {
    const h = harness([{ text: 'Hello there friend' }]);
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'stop', steps: 1, usage: { input: 10, output: 5 } });
    expect(h.log.map((e) => e.kind)).toEqual(['user_message', 'assistant_message']);
    expect(h.finals).toEqual([2]);
    const deltas = h.events.flatMap((e) => (e.type === 'text_delta' ? [e.text] : []));
    expect(deltas).toEqual(['Hello', ' there', ' friend']);
    expect(h.events[0]).toMatchObject({ type: 'turn_started' });
    expect(h.events.at(-1)).toMatchObject({ type: 'turn_finished', reason: 'stop', steps: 1 });
  });

  it('runs one response’s tool calls in parallel and feeds results back in the model’s order', async () => {
    const h = harness(
      [
        {
          calls: [
            { id: 'a', name: 'slow', args: '{}' },
            { id: 'b', name: 'fast', args: '{}' },
          ],
        },
        { text: 'done' },
      ],
      [sleepTool('slow', 60), sleepTool('fast', 5)],
    );
    concurrency.max = 0;
    await h.run();
    expect(concurrency.max).toBe(2);
    expect(h.log.map((e) => e.kind)).toEqual([
      'user_message',
      'assistant_message',
      'tool_started',
      'tool_started',
      'tool_finished',
      'tool_finished',
      'assistant_message',
    ]);
    const finished = h.log.filter((e) => e.kind === 'tool_finished');
    expect(finished.map((e) => e.callId)).toEqual(['a', 'b']);
    const second = h.model.requests[1]!.messages;
    expect(second.filter((m) => m.role === 'tool').map((m) => m.toolCallId)).toEqual(['a', 'b']);
  });

  it('turns invalid arguments, unknown tools and throwing tools into results the model reads', async () => {
    const throwing: AgentTool = {
      spec: { name: 'boom', description: '', parameters: {} },
      idempotent: false,
      execute: async () => {
        throw new Error('disk on fire');
      },
    };
    const h = harness(
      [
        {
          calls: [
            { id: 'x', name: 'boom', args: '{}' },
            { id: 'y', name: 'nope', args: '{}' },
            { id: 'z', name: 'boom', args: '{"truncated": ' },
          ],
        },
        { text: 'recovered' },
      ],
      [throwing],
    );
    const outcome = await h.run();
    expect(outcome.reason).toBe('stop');
    const results = h.log.filter((e) => e.kind === 'tool_finished');
    expect(results.map((r) => [r.callId, r.ok])).toEqual([
      ['x', false],
      ['y', false],
      ['z', false],
    ]);
    expect(results[0]!.output).toContain('disk on fire');
    expect(results[1]!.output).toContain('Unknown tool nope');
    expect(results[2]!.output).toContain('not valid JSON');
  });

  it('records a model error as the turn’s final entry', async () => {
    const h = harness([{ error: { kind: 'server', message: 'upstream 500' } }]);
    const outcome = await h.run();
    expect(outcome.reason).toBe('error');
    expect(h.log.at(-1)).toMatchObject({ kind: 'error', code: 'server', message: 'upstream 500' });
    expect(h.finals).toEqual([2]);
  });

  it('stops at the step limit with an error entry', async () => {
    const steps = Array.from({ length: 10 }, (_, i) => ({
      calls: [{ id: `c${i}`, name: 'fast', args: { n: i } }],
    }));
    const h = harness(steps, [sleepTool('fast', 0)]);
    const outcome = await h.run();
    expect(outcome).toMatchObject({ reason: 'length', steps: 5 });
    expect(h.log.at(-1)).toMatchObject({ kind: 'error', code: 'max_steps' });
  });

  it('reports every state transition of the turn as an event', async () => {
    const h = harness(
      [{ calls: [{ id: 'a', name: 'fast', args: '{}' }] }, { text: 'done' }],
      [sleepTool('fast', 0)],
    );
    await h.run();
    const states = h.events.flatMap((e) => (e.type === 'turn_state' ? [`${e.from}>${e.to}`] : []));
    expect(states).toEqual([
      'awaiting_model>streaming',
      'streaming>running_tools',
      'running_tools>awaiting_model',
      'awaiting_model>streaming',
      'streaming>done',
    ]);
  });

  it('sends the system prompt, the history and the tool specs to the model', async () => {
    const h = harness([{ text: 'ok' }], [sleepTool('fast', 0)]);
    await h.run();
    const request = h.model.requests[0]!;
    expect(request.messages).toEqual([
      { role: 'system', content: 'system' },
      { role: 'user', content: 'hello' },
    ]);
    expect(request.tools?.map((t) => t.name)).toEqual(['fast']);
  });
});
